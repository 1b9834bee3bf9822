-- People working at facilities that held a valid (certified or provisional) Performance
-- Standard certificate on each date in $dates, per member company and country: the
-- contributions behind the published workers tile. No filters: the disclosure policy in
-- asi_me/outcomes.py decides which geographic cell a viewer may see.
with

dates as (
    select unnest($dates::date[]) as on_date
),

certification_segments as (
    select * from certification_segments
),

facilities as (
    select * from facilities
),

countries as (
    select * from countries
),

-- a certification's status holds from one segment start to the next (see
-- outcomes_certificate_segments.sql), so a date is covered by the valid PS segment it falls in
valid_ps_segments as (
    select
        s.facility_id,
        s.segment_start,
        s.segment_end,
    from certification_segments as s
    where s.standard = 'PS'
        and cert_status_on(
            s.issued_on, s.expires_on, s.status, s.status_changed_on, s.certification_type, s.segment_start
        ) in ('certified', 'provisional')
),

covered as (
    select distinct
        d.on_date,
        v.facility_id,
    from dates as d
    inner join valid_ps_segments as v
        on v.segment_start <= d.on_date and (v.segment_end is null or d.on_date < v.segment_end)
),

final as (
    select
        v.on_date,
        f.member_id,
        f.country,
        coalesce(k.region, 'Unknown region') as region,
        coalesce(sum(f.workers), 0)::bigint as workers,
    from covered as v
    inner join facilities as f on f.facility_id = v.facility_id
    left join countries as k on k.country = f.country
    group by v.on_date, f.member_id, f.country, k.region
)

select * from final
order by on_date, member_id, country
