-- CoC report lines failing the mass balance, counted per reporting year and stage: the
-- same check as coc_mass_balance.sql (output may not exceed input times the stage's yield
-- factor plus the carried-forward balance, with a micro-tonne tolerance), applied to every
-- line first so that only the few failing lines are joined to their facility and member
-- for the place and class filters.
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

failing as (
    select
        r.reporting_year,
        r.stage,
        r.facility_id,
    from coc_reports as r
    left join yield_factors as y on y.stage = r.stage and y.material = r.material
    where not (r.output_t <= r.input_t * coalesce(y.yield_factor, 1.0) + r.carried_forward_t + 1e-6)
),

narrowed as (
    select
        l.reporting_year,
        l.stage,
    from failing as l
    inner join facilities as f on f.facility_id = l.facility_id
    inner join members as m on m.member_id = f.member_id
    left join countries as k on k.country = f.country
    where (len($countries::varchar[]) = 0 or list_contains($countries::varchar[], f.country))
        and (len($regions::varchar[]) = 0 or list_contains($regions::varchar[], k.region))
        and (
            len($membership_classes::varchar[]) = 0
            or list_contains($membership_classes::varchar[], m.membership_class)
        )
),

counted as (
    select
        reporting_year,
        stage,
        count(*) as lines,
    from narrowed
    group by reporting_year, stage
)

select * from counted
order by reporting_year, stage
