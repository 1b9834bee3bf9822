-- One page of the public register as of $as_of (cert_register.sql, same filters and
-- columns), sorted on the server over every row by $sort_by ($descending: largest first;
-- empty values last either way; ties in register order), $row_limit rows from $row_offset.
-- $sort_by is allow-listed in Python (certifications.REGISTER_SORT_COLUMNS); the sort keys
-- are chosen here with case expressions, so no identifier is ever built from input.
with

-- not materialized: read twice, once for the sort keys (two columns) and once for the page's
-- rows (DuckDB pushes the page's register_order into that scan). Materialized, the CTE read
-- and kept every column of every row, which cost 2-3x the whole query at 100x.
shown as not materialized (
    select *
    from cert_shown(
        $as_of::date,
        $countries::varchar[],
        $regions::varchar[],
        $activities::varchar[],
        $standards::varchar[],
        $versions::varchar[],
        $membership_classes::varchar[],
        $statuses::varchar[]
    )
),

-- the sort runs on the keys alone, and only the page's rows are read in full: sorting the
-- wide rows cost twice as much at 100x
keyed as (
    select
        register_order,
        case $sort_by::varchar
            when 'certification_id' then certification_id
            when 'facility_name' then facility_name
            when 'member_name' then member_name
            when 'country' then country
            when 'country_name' then country_name
            when 'region' then region
            when 'standard' then standard
            when 'standard_version' then standard_version
            when 'certification_type' then certification_type
            when 'status' then status
            when 'scope' then scope
            when 'auditing_firm_name' then auditing_firm_name
        end as text_key,
        case $sort_by::varchar
            when 'issued_on' then issued_on
            when 'expires_on' then expires_on
            when 'status_changed_on' then status_changed_on
        end as date_key,
    from shown
),

page as (
    select *
    from keyed
    order by
        case when not $descending::boolean then text_key end asc nulls last,
        case when $descending::boolean then text_key end desc nulls last,
        case when not $descending::boolean then date_key end asc nulls last,
        case when $descending::boolean then date_key end desc nulls last,
        register_order
    limit $row_limit
    offset $row_offset
),

final as (
    select
        s.*,
        p.text_key,
        p.date_key,
    from page as p
    inner join shown as s on s.register_order = p.register_order
)

-- the page's rows in the same order; the caller drops register_order, text_key and date_key
select * from final
order by
        case when not $descending::boolean then text_key end asc nulls last,
        case when $descending::boolean then text_key end desc nulls last,
        case when not $descending::boolean then date_key end asc nulls last,
        case when $descending::boolean then date_key end desc nulls last,
        register_order
