-- For each date in $dates: certifications issued by then, valid certificates and
-- facilities holding a valid certification, within every register filter. Certifications
-- are cut into status segments once per snapshot (derived_certification_segments.sql) and
-- counted with running totals read at each date.
with

dates as (
    select unnest($dates::date[]) as on_date
),

segments as (
    select
        s.certification_id,
        s.facility_key,
        s.segment_start,
        s.segment_end,
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

segment_events as (
    select facility_key, segment_start as event_on, 1 as sign, is_valid from shown
    union all
    select facility_key, segment_end as event_on, -1 as sign, is_valid from shown
    where segment_end is not null
),

facility_changes as (
    select facility_key, event_on, sum(sign) as change
    from segment_events
    where is_valid
    group by facility_key, event_on
),

facility_events as (
    -- +1 where a facility's count of valid segments rises from zero, -1 where it falls to zero
    select
        event_on,
        (covering > 0)::int - (covering - change > 0)::int as facilities_change,
    from (
        select
            event_on,
            change,
            sum(change) over (partition by facility_key order by event_on) as covering,
        from facility_changes
    )
),

all_events as (
    select event_on, sign as shown_change, sign * is_valid::int as valid_change, 0 as facilities_change
    from segment_events
    union all
    select event_on, 0, 0, facilities_change from facility_events
),

running as (
    select
        event_on,
        sum(sum(shown_change)) over (order by event_on) as certifications_shown,
        sum(sum(valid_change)) over (order by event_on) as certificates_valid,
        sum(sum(facilities_change)) over (order by event_on) as certified_facilities,
    from all_events
    group by event_on
),

final as (
    select
        d.on_date,
        coalesce(r.certifications_shown, 0)::bigint as certifications_shown,
        coalesce(r.certificates_valid, 0)::bigint as certificates_valid,
        coalesce(r.certified_facilities, 0)::bigint as certified_facilities,
    from dates as d
    asof left join running as r on d.on_date >= r.event_on
)

select * from final
order by on_date
