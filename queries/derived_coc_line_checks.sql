-- Every CoC report line once per snapshot with its facility, member, country and
-- membership class, and, for lines with input, its yield (output per tonne of input) with
-- the median and MAD of the yields of the same stage and input material across all lines
-- and years. The data-quality mass-balance and yield checks scan this one table (yield
-- factors and thresholds are applied by the queries) instead of joining every line to
-- 100,000 facilities on each call, and so do the CoC flows (queries/coc_lines.sql).
with

coc_reports as (
    select * from coc_reports
),

facilities as (
    select * from facilities
),

members as (
    select * from members
),

yields as (
    select
        r.stage,
        r.material,
        r.output_t / r.input_t as yield_ratio,
    from coc_reports as r
    where r.input_t > 0
),

spread as (
    select
        stage,
        material,
        median(yield_ratio) as median_ratio,
        mad(yield_ratio) as mad_ratio,
    from yields
    group by stage, material
),

final as (
    select
        r.reporting_year,
        r.stage,
        r.material,
        r.facility_id,
        f.name as facility_name,
        f.member_id,
        m.name as member_name,
        f.country,
        m.membership_class,
        r.input_t,
        r.output_t,
        r.carried_forward_t,
        r.submitted_on,
        r.due_on,
        case when r.input_t > 0 then r.output_t / r.input_t end as yield_ratio,
        s.median_ratio,
        s.mad_ratio,
    from coc_reports as r
    inner join facilities as f on f.facility_id = r.facility_id
    inner join members as m on m.member_id = f.member_id
    left join spread as s on s.stage = r.stage and s.material = r.material and r.input_t > 0
)

select * from final
order by reporting_year, stage, material, member_id, facility_id
