-- The mass-balance check of every CoC report line of the given years: a line's output
-- may not exceed its input times the stage's yield factor plus its carried-forward
-- balance. Yield factors come from asi_me.vocab.COC_YIELD_FACTOR as bound lists.
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

checked as (
    select
        r.reporting_year,
        r.stage,
        r.material,
        r.facility_id,
        f.name as facility_name,
        f.member_id,
        m.name as member_name,
        r.input_t,
        r.output_t,
        r.carried_forward_t,
        -- Contract-valid lines always have a factor; 1.0 keeps an invalid pair checkable.
        coalesce(y.yield_factor, 1.0) as yield_factor,
    from coc_reports as r
    inner join facilities as f on f.facility_id = r.facility_id
    inner join members as m on m.member_id = f.member_id
    left join countries as k on k.country = f.country
    left join yield_factors as y on y.stage = r.stage and y.material = r.material
    where ($all_years::boolean or list_contains($years::integer[], r.reporting_year))
        and (len($countries::varchar[]) = 0 or list_contains($countries::varchar[], f.country))
        and (len($regions::varchar[]) = 0 or list_contains($regions::varchar[], k.region))
        and (
            len($membership_classes::varchar[]) = 0
            or list_contains($membership_classes::varchar[], m.membership_class)
        )
        and ($member_id::varchar is null or f.member_id = $member_id::varchar)
),

balanced as (
    select
        *,
        input_t * yield_factor + carried_forward_t as allowance_t,
        greatest(output_t - (input_t * yield_factor + carried_forward_t), 0) as excess_t,
        -- A micro-tonne tolerance for floating-point sums only.
        output_t <= input_t * yield_factor + carried_forward_t + 1e-6 as is_balanced,
    from checked
)

select * from balanced
order by reporting_year, stage, material, member_id, facility_id
