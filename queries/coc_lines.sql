-- CoC report lines of the given reporting years with the reporting company and the
-- facility's place, restricted by the global filter bar (facility country / region,
-- member class) and optionally to one member's own facilities. The lines come joined to
-- their facility and member once per snapshot (derived table coc_line_checks).
with

coc_line_checks as (
    select * from coc_line_checks
),

countries as (
    select * from countries
),

lines as (
    select
        l.reporting_year,
        l.stage,
        l.material,
        l.facility_id,
        l.facility_name,
        l.member_id,
        l.member_name,
        l.membership_class,
        l.country,
        k.region,
        l.input_t,
        l.output_t,
        l.carried_forward_t,
        l.submitted_on,
        l.due_on,
    from coc_line_checks as l
    left join countries as k on k.country = l.country
    where list_contains($years::integer[], l.reporting_year)
        and (len($countries::varchar[]) = 0 or list_contains($countries::varchar[], l.country))
        and (len($regions::varchar[]) = 0 or list_contains($regions::varchar[], k.region))
        and (
            len($membership_classes::varchar[]) = 0
            or list_contains($membership_classes::varchar[], l.membership_class)
        )
        and ($member_id::varchar is null or l.member_id = $member_id::varchar)
)

select * from lines
order by reporting_year, stage, material, member_id, facility_id
