-- CoC report lines failing the mass balance, counted per reporting year and stage, over
-- the coc_line_checks derived table narrowed by the place and class filters: the same
-- check as coc_mass_balance.sql (output may not exceed input times the stage's yield
-- factor plus the carried-forward balance, with a micro-tonne tolerance).
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

failing as (
    select
        l.reporting_year,
        l.stage,
    from coc_line_checks as l
    left join yield_factors as y on y.stage = l.stage and y.material = l.material
    left join countries as k on k.country = l.country
    where not (l.output_t <= l.input_t * coalesce(y.yield_factor, 1.0) + l.carried_forward_t + 1e-6)
        and (len($countries::varchar[]) = 0 or list_contains($countries::varchar[], l.country))
        and (len($regions::varchar[]) = 0 or list_contains($regions::varchar[], k.region))
        and (
            len($membership_classes::varchar[]) = 0
            or list_contains($membership_classes::varchar[], l.membership_class)
        )
),

counted as (
    select
        reporting_year,
        stage,
        count(*) as lines,
    from failing
    group by reporting_year, stage
)

select * from counted
order by reporting_year, stage
