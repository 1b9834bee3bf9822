-- Certificates on each date in $dates grouped by $group_by (allow-listed in Python:
-- standard, standard_version, status, activity or country): cumulative issued and
-- currently valid. A certificate counts once in each activity of its facility.
with

dates as (
    select unnest($dates::date[]) as on_date
),

certifications as (
    select * from certifications
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

filtered_certifications as (
    select
        c.certification_id,
        c.standard,
        c.standard_version,
        c.issued_on,
        c.expires_on,
        c.status,
        c.status_changed_on,
        c.certification_type,
        f.country,
        f.activities,
    from certifications as c
    inner join facilities as f on f.facility_id = c.facility_id
    inner join members as m on m.member_id = f.member_id
    left join countries as k on k.country = f.country
    where (len($countries::varchar[]) = 0 or list_contains($countries::varchar[], f.country))
        and (len($regions::varchar[]) = 0 or list_contains($regions::varchar[], k.region))
        and (len($activities::varchar[]) = 0 or list_has_any(f.activities, $activities::varchar[]))
        and (len($standards::varchar[]) = 0 or list_contains($standards::varchar[], c.standard))
        and (len($versions::varchar[]) = 0 or list_contains($versions::varchar[], c.standard_version))
        and (
            len($membership_classes::varchar[]) = 0
            or list_contains($membership_classes::varchar[], m.membership_class)
        )
),

status_on_dates as (
    select
        d.on_date,
        c.*,
        cert_status_on(
            c.issued_on, c.expires_on, c.status, c.status_changed_on, c.certification_type, d.on_date
        ) as status_on,
    from dates as d
    inner join filtered_certifications as c on c.issued_on <= d.on_date
),

shown as (
    select *
    from status_on_dates
    where len($statuses::varchar[]) = 0 or list_contains($statuses::varchar[], status_on)
),

grouped as (
    select
        on_date,
        status_on,
        unnest(
            case $group_by::varchar
                when 'standard' then [standard]
                when 'standard_version' then [standard_version]
                when 'status' then [status_on]
                when 'country' then [country]
                when 'activity' then activities
            end
        ) as group_value,
    from shown
),

final as (
    select
        on_date,
        group_value,
        count(*) as certificates_issued,
        count(*) filter (where status_on in ('certified', 'provisional')) as certificates_valid,
    from grouped
    group by on_date, group_value
)

select * from final
order by on_date, group_value
