-- Certificates on each date in $dates grouped by $group_by (allow-listed in Python:
-- standard, standard_version, status, activity or country): cumulative issued and
-- currently valid. A certificate counts once in each activity of its facility.
-- Certifications are cut into status segments (the derived table certification_segments)
-- and counted with running totals read at each date.
with

dates as (
    select unnest($dates::date[]) as on_date
),

certification_segments as (
    select * from certification_segments
),

segments as (
    select
        s.*,
        cert_status_on(
            s.issued_on, s.expires_on, s.status, s.status_changed_on, s.certification_type, s.segment_start
        ) as status_on,
    from certification_segments as s
    where (len($countries::varchar[]) = 0 or list_contains($countries::varchar[], s.country))
        and (len($regions::varchar[]) = 0 or list_contains($regions::varchar[], s.region))
        and (len($activities::varchar[]) = 0 or list_has_any(s.activities, $activities::varchar[]))
        and (len($standards::varchar[]) = 0 or list_contains($standards::varchar[], s.standard))
        and (len($versions::varchar[]) = 0 or list_contains($versions::varchar[], s.standard_version))
        and (
            len($membership_classes::varchar[]) = 0
            or list_contains($membership_classes::varchar[], s.membership_class)
        )
),

shown as (
    select
        *,
        status_on in ('certified', 'provisional') as is_valid,
    from segments
    where len($statuses::varchar[]) = 0 or list_contains($statuses::varchar[], status_on)
),

grouped as (
    select
        *,
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

group_events as (
    select group_value, segment_start as event_on, 1 as sign, is_valid from grouped
    union all
    select group_value, segment_end as event_on, -1 as sign, is_valid from grouped
    where segment_end is not null
),

running as (
    select
        group_value,
        event_on,
        sum(sum(sign)) over (partition by group_value order by event_on) as certificates_issued,
        sum(sum(sign * is_valid::int)) over (partition by group_value order by event_on) as certificates_valid,
    from group_events
    group by group_value, event_on
),

grid as (
    select d.on_date, g.group_value
    from dates as d
    cross join (select distinct group_value from grouped) as g
),

final as (
    select
        g.on_date,
        g.group_value,
        r.certificates_issued::bigint as certificates_issued,
        r.certificates_valid::bigint as certificates_valid,
    from grid as g
    asof inner join running as r on g.group_value = r.group_value and g.on_date >= r.event_on
)

select * from final
where certificates_issued > 0
order by on_date, group_value
