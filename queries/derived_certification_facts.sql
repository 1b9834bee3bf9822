-- Every certification with its facility, member, country and auditing firm, in register
-- order: the facts that do not depend on the filter bar or the as-of date, joined once
-- per snapshot. The cert_rows() macro (cert_status_macro.sql) reads this table, so the
-- register, map and detail queries scan one table instead of joining five.
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

auditing_firms as (
    select * from auditing_firms
),

final as (
    select
        c.certification_id,
        c.facility_id,
        f.name as facility_name,
        f.member_id,
        m.name as member_name,
        m.membership_class,
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
        c.status,
        c.issued_on,
        c.expires_on,
        c.status_changed_on,
        c.scope,
        c.auditing_firm_id,
        a.name as auditing_firm_name,
        c.external_certifications,
        -- the register's order as one number, so queries sort on it instead of five columns
        row_number() over (
            order by f.country, f.name, c.standard, c.issued_on, c.certification_id
        ) as register_order,
    from certifications as c
    inner join facilities as f on f.facility_id = c.facility_id
    inner join members as m on m.member_id = f.member_id
    left join countries as k on k.country = f.country
    left join auditing_firms as a on a.auditing_firm_id = c.auditing_firm_id
)

select * from final
order by country, facility_name, standard, issued_on, certification_id
