-- CoC reports per facility and reporting year with their submission and due dates (the
-- received rows of the coc_facility_years derived table: latest submission, earliest due
-- date); a report is late when it was submitted after it was due.
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
        d.submitted_on,
        d.due_on,
        d.submitted_on > d.due_on as is_late,
        greatest(date_diff('day', d.due_on, d.submitted_on), 0) as days_late,
    from coc_facility_years as d
    left join countries as k on k.country = d.country
    where d.is_received
        and (len($countries::varchar[]) = 0 or list_contains($countries::varchar[], d.country))
        and (len($regions::varchar[]) = 0 or list_contains($regions::varchar[], k.region))
        and (
            len($membership_classes::varchar[]) = 0
            or list_contains($membership_classes::varchar[], d.membership_class)
        )
        and ($member_id::varchar is null or d.member_id = $member_id::varchar)
)

select * from described
order by reporting_year, facility_id
