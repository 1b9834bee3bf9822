-- One certification with its facility, member, auditing firm and status on $as_of.
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

auditing_firms as (
    select * from auditing_firms
),

countries as (
    select * from countries
),

final as (
    select
        c.certification_id,
        c.facility_id,
        f.name as facility_name,
        f.member_id,
        m.name as member_name,
        f.country,
        k.country_name,
        k.region,
        f.latitude,
        f.longitude,
        f.activities,
        f.workers,
        c.standard,
        c.standard_version,
        c.certification_type,
        cert_status_on(
            c.issued_on, c.expires_on, c.status, c.status_changed_on, c.certification_type, $as_of::date
        ) as status,
        c.issued_on,
        c.expires_on,
        c.status_changed_on,
        c.scope,
        c.auditing_firm_id,
        a.name as auditing_firm_name,
        c.external_certifications,
    from certifications as c
    inner join facilities as f on f.facility_id = c.facility_id
    inner join members as m on m.member_id = f.member_id
    left join countries as k on k.country = f.country
    left join auditing_firms as a on a.auditing_firm_id = c.auditing_firm_id
    where c.certification_id = $certification_id
)

select * from final
