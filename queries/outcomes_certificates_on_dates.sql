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
        s.facility_key,
        s.country_key,
        s.standard,
        s.is_leveraging_external,
        s.workers,
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
        facility_key,
        country_key,
        workers,
        segment_start,
        segment_end,
        standard = 'PS' as is_ps,
        standard = 'CoC' as is_coc,
        status_on in ('certified', 'provisional') as is_valid,
        is_leveraging_external,
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
    select facility_key, any_value(workers) as workers, event_on, sum(sign) as change
    from segment_events
    where is_ps and is_valid
    group by facility_key, event_on
),

-- covered after an event when the running count of valid segments is positive, and
-- before it when that count less the event's own change was
facility_events as (
    select
        event_on,
        workers * ((covering > 0)::int - (covering - change > 0)::int) as workers_change,
    from (
        select
            workers,
            event_on,
            change,
            sum(change) over (partition by facility_key order by event_on) as covering,
        from facility_changes
    )
),

country_changes as (
    select country_key, event_on, sum(sign) as change
    from segment_events
    where is_valid
    group by country_key, event_on
),

country_events as (
    select
        event_on,
        (covering > 0)::int - (covering - change > 0)::int as countries_change,
    from (
        select
            event_on,
            change,
            sum(change) over (partition by country_key order by event_on) as covering,
        from country_changes
    )
),

all_events as (
    select
        event_on,
        sign * is_ps::int as ps_issued,
        sign * is_coc::int as coc_issued,
        sign * (is_ps and is_valid)::int as ps_valid,
        sign * (is_coc and is_valid)::int as coc_valid,
        sign * (is_ps and is_valid and is_leveraging_external)::int as ps_valid_leveraging,
        0 as ps_workers,
        0 as countries_valid,
    from segment_events
    union all
    select event_on, 0, 0, 0, 0, 0, workers_change, 0 from facility_events
    union all
    select event_on, 0, 0, 0, 0, 0, 0, countries_change from country_events
),

-- the running totals read on each date: dates join the events as zero rows that sort after
-- the events of their own day, so one running sum answers every date
running as (
    select
        is_date,
        event_on,
        sum(sum(ps_issued)) over w as ps_issued,
        sum(sum(coc_issued)) over w as coc_issued,
        sum(sum(ps_valid)) over w as ps_valid,
        sum(sum(coc_valid)) over w as coc_valid,
        sum(sum(countries_valid)) over w as countries_valid,
        sum(sum(ps_valid_leveraging)) over w as ps_valid_leveraging,
        sum(sum(ps_workers)) over w as ps_workers,
    from (
        select false as is_date, * from all_events
        union all
        select true, on_date, 0, 0, 0, 0, 0, 0, 0 from dates
    )
    group by event_on, is_date
    window w as (order by event_on, is_date)
),

final as (
    select
        event_on as on_date,
        ps_issued::bigint as ps_issued,
        coc_issued::bigint as coc_issued,
        ps_valid::bigint as ps_valid,
        coc_valid::bigint as coc_valid,
        countries_valid::bigint as countries_valid,
        ps_valid_leveraging::bigint as ps_valid_leveraging,
        ps_workers::bigint as ps_workers,
    from running
    where is_date
)

select * from final
order by on_date
