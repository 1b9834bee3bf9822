-- CoC reports per facility and reporting year with their submission and due dates;
-- a report is late when it was submitted after it was due.
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

reports as (
    select
        r.reporting_year,
        r.facility_id,
        max(r.submitted_on) as submitted_on,
        min(r.due_on) as due_on,
    from coc_reports as r
    group by r.reporting_year, r.facility_id
),

described as (
    select
        p.reporting_year,
        p.facility_id,
        f.name as facility_name,
        f.member_id,
        m.name as member_name,
        p.submitted_on,
        p.due_on,
        p.submitted_on > p.due_on as is_late,
        greatest(date_diff('day', p.due_on, p.submitted_on), 0) as days_late,
    from reports as p
    inner join facilities as f on f.facility_id = p.facility_id
    inner join members as m on m.member_id = f.member_id
    left join countries as k on k.country = f.country
    where (len($countries::varchar[]) = 0 or list_contains($countries::varchar[], f.country))
        and (len($regions::varchar[]) = 0 or list_contains($regions::varchar[], k.region))
        and (
            len($membership_classes::varchar[]) = 0
            or list_contains($membership_classes::varchar[], m.membership_class)
        )
        and ($member_id::varchar is null or f.member_id = $member_id::varchar)
)

select * from described
order by reporting_year, facility_id
