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
        -- each sortable column's place in the register sorted by it (1 = smallest value; equal
        -- values share a place; an empty value has none), so that sorting the register by a
        -- column is an integer sort (queries/cert_register_sorted_page.sql). Status and the
        -- status date are not here: they depend on the as-of date.
        case when c.certification_id is not null then dense_rank() over (order by c.certification_id) end::integer
            as certification_id_rank,
        case when f.name is not null then dense_rank() over (order by f.name) end::integer
            as facility_name_rank,
        case when m.name is not null then dense_rank() over (order by m.name) end::integer
            as member_name_rank,
        case when f.country is not null then dense_rank() over (order by f.country) end::integer
            as country_rank,
        case when k.country_name is not null then dense_rank() over (order by k.country_name) end::integer
            as country_name_rank,
        case when k.region is not null then dense_rank() over (order by k.region) end::integer
            as region_rank,
        case when c.standard is not null then dense_rank() over (order by c.standard) end::integer
            as standard_rank,
        case when c.standard_version is not null then dense_rank() over (order by c.standard_version) end::integer
            as standard_version_rank,
        case when c.certification_type is not null then dense_rank() over (order by c.certification_type) end::integer
            as certification_type_rank,
        case when c.scope is not null then dense_rank() over (order by c.scope) end::integer
            as scope_rank,
        case when a.name is not null then dense_rank() over (order by a.name) end::integer
            as auditing_firm_name_rank,
        case when c.issued_on is not null then dense_rank() over (order by c.issued_on) end::integer
            as issued_on_rank,
        case when c.expires_on is not null then dense_rank() over (order by c.expires_on) end::integer
            as expires_on_rank,
    from certifications as c
    inner join facilities as f on f.facility_id = c.facility_id
    inner join members as m on m.member_id = f.member_id
    left join countries as k on k.country = f.country
    left join auditing_firms as a on a.auditing_firm_id = c.auditing_firm_id
)

select * from final
order by country, facility_name, standard, issued_on, certification_id
