-- The mass-balance check of every CoC report line of the given years: a line's output
-- may not exceed its input times the stage's yield factor plus its carried-forward
-- balance. Yield factors come from asi_me.vocab.COC_YIELD_FACTOR as bound lists. Lines
-- come joined to their facility and member once per snapshot (derived coc_line_checks).
with

coc_line_checks as (
    select * from coc_line_checks
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
        l.reporting_year,
        l.stage,
        l.material,
        l.facility_id,
        l.facility_name,
        l.member_id,
        l.member_name,
        l.input_t,
        l.output_t,
        l.carried_forward_t,
        -- Contract-valid lines always have a factor; 1.0 keeps an invalid pair checkable.
        coalesce(y.yield_factor, 1.0) as yield_factor,
    from coc_line_checks as l
    left join countries as k on k.country = l.country
    left join yield_factors as y on y.stage = l.stage and y.material = l.material
    where ($all_years::boolean or list_contains($years::integer[], l.reporting_year))
        and (len($countries::varchar[]) = 0 or list_contains($countries::varchar[], l.country))
        and (len($regions::varchar[]) = 0 or list_contains($regions::varchar[], k.region))
        and (
            len($membership_classes::varchar[]) = 0
            or list_contains($membership_classes::varchar[], l.membership_class)
        )
        and ($member_id::varchar is null or l.member_id = $member_id::varchar)
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
