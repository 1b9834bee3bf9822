-- CoC reports expected vs received, one row per facility and reporting year (the
-- coc_facility_years derived table: expected when the facility held a CoC certification
-- valid at any time in the year, received when it has any CoC report line for it),
-- narrowed by the place, class and member filters.
with

coc_facility_years as (
    select * from coc_facility_years
),

countries as (
    select * from countries
),

described as (
    select
        d.reporting_year,
        d.facility_id,
        d.facility_name,
        d.member_id,
        d.member_name,
        d.country,
        d.is_expected,
        d.is_received,
    from coc_facility_years as d
    left join countries as k on k.country = d.country
    where (len($countries::varchar[]) = 0 or list_contains($countries::varchar[], d.country))
        and (len($regions::varchar[]) = 0 or list_contains($regions::varchar[], k.region))
        and (
            len($membership_classes::varchar[]) = 0
            or list_contains($membership_classes::varchar[], d.membership_class)
        )
        and ($member_id::varchar is null or d.member_id = $member_id::varchar)
)

select * from described
order by reporting_year, facility_id
