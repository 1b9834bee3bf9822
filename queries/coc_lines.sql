-- CoC report lines of the given reporting years with the reporting company and the
-- facility's place, restricted by the global filter bar (facility country / region,
-- member class) and optionally to one member's own facilities.
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

lines as (
    select
        r.reporting_year,
        r.stage,
        r.material,
        r.facility_id,
        f.name as facility_name,
        f.member_id,
        m.name as member_name,
        m.membership_class,
        f.country,
        k.region,
        r.input_t,
        r.output_t,
        r.carried_forward_t,
        r.submitted_on,
        r.due_on,
    from coc_reports as r
    inner join facilities as f on f.facility_id = r.facility_id
    inner join members as m on m.member_id = f.member_id
    left join countries as k on k.country = f.country
    where list_contains($years::integer[], r.reporting_year)
        and (len($countries::varchar[]) = 0 or list_contains($countries::varchar[], f.country))
        and (len($regions::varchar[]) = 0 or list_contains($regions::varchar[], k.region))
        and (
            len($membership_classes::varchar[]) = 0
            or list_contains($membership_classes::varchar[], m.membership_class)
        )
        and ($member_id::varchar is null or f.member_id = $member_id::varchar)
)

select * from lines
order by reporting_year, stage, material, member_id, facility_id
