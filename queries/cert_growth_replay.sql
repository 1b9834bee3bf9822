-- For each date in $dates: certifications issued by then, valid certificates and
-- facilities holding a valid certification, within every register filter. Certifications
-- are cut into status segments (see outcomes_certificates_on_dates.sql) and counted with
-- running totals read at each date.
with

dates as (
    select unnest($dates::date[]) as on_date
),

filtered_certifications as (
    select
        r.certification_id,
        r.facility_id,
        r.standard,
        r.issued_on,
        r.expires_on,
        r.status,
        r.status_changed_on,
        r.certification_type,
        r.country,
    from cert_rows() as r
    where (len($countries::varchar[]) = 0 or list_contains($countries::varchar[], r.country))
        and (len($regions::varchar[]) = 0 or list_contains($regions::varchar[], r.region))
        and (len($activities::varchar[]) = 0 or list_has_any(r.activities, $activities::varchar[]))
        and (len($standards::varchar[]) = 0 or list_contains($standards::varchar[], r.standard))
        and (len($versions::varchar[]) = 0 or list_contains($versions::varchar[], r.standard_version))
        and (
            len($membership_classes::varchar[]) = 0
            or list_contains($membership_classes::varchar[], r.membership_class)
        )
),

segment_starts as (
    select distinct
        certification_id,
        unnest([issued_on, status_changed_on, expires_on]) as segment_start,
    from filtered_certifications
),

segments as (
    select
        c.*,
        s.segment_start,
        lead(s.segment_start) over (partition by s.certification_id order by s.segment_start) as segment_end,
        cert_status_on(
            c.issued_on, c.expires_on, c.status, c.status_changed_on, c.certification_type, s.segment_start
        ) as status_on,
    from segment_starts as s
    inner join filtered_certifications as c on c.certification_id = s.certification_id
    where s.segment_start is not null and s.segment_start >= c.issued_on
),

shown as (
    select
        *,
        status_on in ('certified', 'provisional') as is_valid,
    from segments
    where len($statuses::varchar[]) = 0 or list_contains($statuses::varchar[], status_on)
),

segment_events as (
    select facility_id, segment_start as event_on, 1 as sign, is_valid from shown
    union all
    select facility_id, segment_end as event_on, -1 as sign, is_valid from shown
    where segment_end is not null
),

facility_changes as (
    select facility_id, event_on, sum(sign) as change
    from segment_events
    where is_valid
    group by facility_id, event_on
),

facility_events as (
    select
        event_on,
        is_covered - coalesce(lag(is_covered) over (partition by facility_id order by event_on), 0)
            as facilities_change,
    from (
        select
            facility_id,
            event_on,
            (sum(change) over (partition by facility_id order by event_on) > 0)::int as is_covered,
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
