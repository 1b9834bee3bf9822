-- Certificate counts on each date in $dates: cumulative issued (the way ASI publishes
-- them), currently valid (certified or provisional), countries with a valid certification,
-- valid PS certifications leveraging external certifications and people working in
-- facilities holding a valid PS certification.
--
-- A certification's status only changes on its issue, status-change and expiry dates, so
-- it is cut into segments at those dates once per snapshot (the derived table
-- certification_segments), each taking cert_status_on() at its start. Every figure is
-- then a running total of +1/-1 events, read at each date with an asof join, instead of
-- evaluating every certification on every date.
with

dates as (
    select unnest($dates::date[]) as on_date
),

certification_segments as (
    select * from certification_segments
),

segments as (
    select
        s.* exclude (region, activities, standard_version, membership_class),
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
    select segment_start as event_on, 1 as sign, * exclude (segment_start, segment_end) from shown
    union all
    select segment_end as event_on, -1 as sign, * exclude (segment_start, segment_end) from shown
    where segment_end is not null
),

-- facilities and countries count while at least one valid (PS) segment covers them
facility_changes as (
    select facility_id, any_value(workers) as workers, event_on, sum(sign) as change
    from segment_events
    where standard = 'PS' and is_valid
    group by facility_id, event_on
),

facility_cover as (
    select
        facility_id,
        workers,
        event_on,
        (sum(change) over (partition by facility_id order by event_on) > 0)::int as is_covered,
    from facility_changes
),

facility_events as (
    select
        event_on,
        workers * (is_covered - coalesce(lag(is_covered) over (partition by facility_id order by event_on), 0))
            as workers_change,
    from facility_cover
),

country_changes as (
    select country, event_on, sum(sign) as change
    from segment_events
    where is_valid
    group by country, event_on
),

country_events as (
    select
        event_on,
        is_covered - coalesce(lag(is_covered) over (partition by country order by event_on), 0) as countries_change,
    from (
        select
            country,
            event_on,
            (sum(change) over (partition by country order by event_on) > 0)::int as is_covered,
        from country_changes
    )
),

all_events as (
    select
        event_on,
        sign * (standard = 'PS')::int as ps_issued,
        sign * (standard = 'CoC')::int as coc_issued,
        sign * (standard = 'PS' and is_valid)::int as ps_valid,
        sign * (standard = 'CoC' and is_valid)::int as coc_valid,
        sign * (standard = 'PS' and is_valid and is_leveraging_external)::int as ps_valid_leveraging,
        0 as ps_workers,
        0 as countries_valid,
    from segment_events
    union all
    select event_on, 0, 0, 0, 0, 0, workers_change, 0 from facility_events
    union all
    select event_on, 0, 0, 0, 0, 0, 0, countries_change from country_events
),

running as (
    select
        event_on,
        sum(sum(ps_issued)) over (order by event_on) as ps_issued,
        sum(sum(coc_issued)) over (order by event_on) as coc_issued,
        sum(sum(ps_valid)) over (order by event_on) as ps_valid,
        sum(sum(coc_valid)) over (order by event_on) as coc_valid,
        sum(sum(countries_valid)) over (order by event_on) as countries_valid,
        sum(sum(ps_valid_leveraging)) over (order by event_on) as ps_valid_leveraging,
        sum(sum(ps_workers)) over (order by event_on) as ps_workers,
    from all_events
    group by event_on
),

final as (
    select
        d.on_date,
        coalesce(r.ps_issued, 0)::bigint as ps_issued,
        coalesce(r.coc_issued, 0)::bigint as coc_issued,
        coalesce(r.ps_valid, 0)::bigint as ps_valid,
        coalesce(r.coc_valid, 0)::bigint as coc_valid,
        coalesce(r.countries_valid, 0)::bigint as countries_valid,
        coalesce(r.ps_valid_leveraging, 0)::bigint as ps_valid_leveraging,
        coalesce(r.ps_workers, 0)::bigint as ps_workers,
    from dates as d
    asof left join running as r on d.on_date >= r.event_on
)

select * from final
order by on_date
