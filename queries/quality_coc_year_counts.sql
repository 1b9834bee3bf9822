-- Per reporting year: CoC reports expected, received, missing (expected, not received),
-- received without being expected, and reports submitted after their due date, counted
-- over the coc_facility_years derived table narrowed by the place, class and member filters.
with

coc_facility_years as (
    select * from coc_facility_years
),

countries as (
    select * from countries
),

narrowed as (
    select
        d.reporting_year,
        d.is_expected,
        d.is_received,
        d.is_received and d.submitted_on > d.due_on as is_late,
    from coc_facility_years as d
    left join countries as k on k.country = d.country
    where (len($countries::varchar[]) = 0 or list_contains($countries::varchar[], d.country))
        and (len($regions::varchar[]) = 0 or list_contains($regions::varchar[], k.region))
        and (
            len($membership_classes::varchar[]) = 0
            or list_contains($membership_classes::varchar[], d.membership_class)
        )
        and ($member_id::varchar is null or d.member_id = $member_id::varchar)
),

counted as (
    select
        reporting_year,
        count(*) filter (where is_expected) as expected,
        count(*) filter (where is_received) as received,
        count(*) filter (where is_expected and not is_received) as missing,
        count(*) filter (where is_received and not is_expected) as received_unexpected,
        count(*) filter (where is_received) as reports,
        count(*) filter (where is_late) as late,
    from narrowed
    group by reporting_year
)

select * from counted
order by reporting_year
