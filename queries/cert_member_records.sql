-- The ids of one member's own records ($member_id), for firewalled table downloads.
with

facilities as (
    select * from facilities
),

certifications as (
    select * from certifications
),

audits as (
    select * from audits
),

own_facilities as (
    select facility_id from facilities where member_id = $member_id
),

own_certifications as (
    select c.certification_id
    from certifications as c
    inner join own_facilities as f on f.facility_id = c.facility_id
),

own_audits as (
    select a.audit_id
    from audits as a
    inner join own_certifications as c on c.certification_id = a.certification_id
),

final as (
    select
        (select coalesce(list(facility_id), []) from own_facilities) as facility_ids,
        (select coalesce(list(certification_id), []) from own_certifications) as certification_ids,
        (select coalesce(list(audit_id), []) from own_audits) as audit_ids,
)

select * from final
