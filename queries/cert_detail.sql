-- One certification with its facility, member, auditing firm and status on $as_of.
with

final as (
    select
        r.certification_id,
        r.facility_id,
        r.facility_name,
        r.member_id,
        r.member_name,
        r.country,
        r.country_name,
        r.region,
        r.latitude,
        r.longitude,
        r.activities,
        r.workers,
        r.standard,
        r.standard_version,
        r.certification_type,
        cert_status_on(
            r.issued_on, r.expires_on, r.status, r.status_changed_on, r.certification_type, $as_of::date
        ) as status,
        r.issued_on,
        r.expires_on,
        r.status_changed_on,
        r.scope,
        r.auditing_firm_id,
        r.auditing_firm_name,
        r.external_certifications,
    from cert_rows() as r
    where r.certification_id = $certification_id
)

select * from final
