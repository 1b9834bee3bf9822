-- The spells in which a facility holds a valid (certified or provisional) Performance
-- Standard certificate: the valid PS status segments (derived certification_segments;
-- a status holds from one segment start to the next, null: open-ended), with the
-- facility's company, country, region and workers. The contributions behind the published
-- workers tile: asi_me/outcomes.py merges a facility's overlapping spells and reads each
-- date's companies from them. No filters: the disclosure policy decides which cell a
-- viewer may see. Rows in any order.
with

certification_segments as (
    select * from certification_segments
),

facilities as (
    select * from facilities
),

countries as (
    select * from countries
),

valid_ps_segments as (
    select
        s.facility_id,
        s.facility_key,
        s.segment_start,
        s.segment_end,
    from certification_segments as s
    where s.standard = 'PS'
        and cert_status_on(
            s.issued_on, s.expires_on, s.status, s.status_changed_on, s.certification_type, s.segment_start
        ) in ('certified', 'provisional')
),

final as (
    select
        v.facility_key,
        v.segment_start,
        v.segment_end,
        f.member_id,
        f.country,
        coalesce(k.region, 'Unknown region') as region,
        coalesce(f.workers, 0) as workers,
    from valid_ps_segments as v
    inner join facilities as f on f.facility_id = v.facility_id
    left join countries as k on k.country = f.country
)

select * from final
