-- Every certification cut into status segments at its issue, status-change and expiry
-- dates (a certification's status only changes on those dates), with the facility,
-- member and country facts the outcomes filters read. Parameter-free: the status of a
-- segment is taken at query time with cert_status_on(..., segment_start), and the filter
-- bar and the as-of date apply there. segment_end is the next segment's start (null for
-- the last one).
with

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

certification_facts as (
    select
        c.certification_id,
        c.facility_id,
        c.standard,
        c.standard_version,
        c.issued_on,
        c.expires_on,
        c.status,
        c.status_changed_on,
        c.certification_type,
        len(c.external_certifications) > 0 as is_leveraging_external,
        f.country,
        k.region,
        f.activities,
        f.workers,
        m.membership_class,
    from certifications as c
    inner join facilities as f on f.facility_id = c.facility_id
    inner join members as m on m.member_id = f.member_id
    left join countries as k on k.country = f.country
),

segment_starts as (
    select distinct
        certification_id,
        unnest([issued_on, status_changed_on, expires_on]) as segment_start,
    from certification_facts
),

final as (
    select
        c.*,
        -- integer keys: grouping and windows over facilities and countries run on these
        dense_rank() over (order by c.facility_id)::integer as facility_key,
        dense_rank() over (order by c.country)::integer as country_key,
        s.segment_start,
        lead(s.segment_start) over (partition by s.certification_id order by s.segment_start) as segment_end,
    from segment_starts as s
    inner join certification_facts as c on c.certification_id = s.certification_id
    where s.segment_start is not null and s.segment_start >= c.issued_on
)

select * from final
order by certification_id, segment_start
