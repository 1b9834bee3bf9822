-- CoC report lines with an implausible yield (output per tonne of input): above
-- $max_ratio times the stage's yield factor, or more than $threshold modified
-- z-scores (median / 1.4826 x MAD) from the yields of the same stage and input
-- material across all lines and years. Lines are scored first and only the few
-- flagged ones are joined to their facility and member for the filters.
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

countries as (
    select * from countries
),

yield_factors as (
    select
        unnest($factor_stages::varchar[]) as stage,
        unnest($factor_materials::varchar[]) as material,
        unnest($factors::double[]) as yield_factor,
),

yields as (
    select
        r.reporting_year,
        r.stage,
        r.material,
        r.facility_id,
        r.input_t,
        r.output_t,
        r.output_t / r.input_t as yield_ratio,
        coalesce(y.yield_factor, 1.0) as yield_factor,
    from coc_reports as r
    left join yield_factors as y on y.stage = r.stage and y.material = r.material
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

scored as (
    select
        l.*,
        -- Reported yields cluster tightly, so the MAD is floored at 5 % of the factor:
        -- a yield is only odd when it is far off in physical terms too.
        (l.yield_ratio - s.median_ratio) / (1.4826 * greatest(s.mad_ratio, 0.05 * l.yield_factor)) as robust_z,
    from yields as l
    inner join spread as s on s.stage = l.stage and s.material = l.material
),

flagged as (
    select
        l.reporting_year,
        l.stage,
        l.material,
        l.facility_id,
        f.name as facility_name,
        f.member_id,
        m.name as member_name,
        l.input_t,
        l.output_t,
        l.yield_ratio,
        l.yield_factor,
        l.robust_z,
    from scored as l
    inner join facilities as f on f.facility_id = l.facility_id
    inner join members as m on m.member_id = f.member_id
    left join countries as k on k.country = f.country
    where (l.yield_ratio > $max_ratio::double * l.yield_factor or abs(l.robust_z) > $threshold::double)
        and (len($countries::varchar[]) = 0 or list_contains($countries::varchar[], f.country))
        and (len($regions::varchar[]) = 0 or list_contains($regions::varchar[], k.region))
        and (
            len($membership_classes::varchar[]) = 0
            or list_contains($membership_classes::varchar[], m.membership_class)
        )
        and ($member_id::varchar is null or f.member_id = $member_id::varchar)
)

select * from flagged
order by reporting_year, stage, material, facility_id
