-- One page of the public register as of $as_of (cert_register.sql, same filters and
-- columns), sorted on the server over every row by $sort_by ($descending: largest first;
-- empty values last either way; ties in register order), $row_limit rows from $row_offset.
-- $sort_by is allow-listed in Python (certifications.REGISTER_SORT_COLUMNS); the sort key
-- is chosen here with a case expression, so no identifier is ever built from input.
with

-- not materialized: read twice, once for what the sort needs (register_order, and the status
-- columns when sorting by status) and once for the page's rows in full (DuckDB pushes the
-- page's register_order into that scan). Materialized, the CTE read and kept every column of
-- every row, which cost 2-3x the whole query at 100x.
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
        $statuses::varchar[],
        p_issued_from := $period_from::date,
        p_issued_to := $period_to::date
    )
),

ranks as (
    select * from cert_rows()
),

-- the sort runs on one integer key and register_order alone: the column's rank, stored once
-- per snapshot with the certification facts (derived_certification_facts.sql), or, for status
-- and its date, which depend on the as-of date, the status's place in $status_order (the
-- statuses in text order) and the date as days from $as_of. Sorting on the text itself cost
-- up to a third more at 100x for long values with many ties (scope, certificate numbers).
-- Descending negates the key, so empty values (no key) stay last and ties stay in register
-- order either way.
keyed as (
    select
        s.register_order,
        case $sort_by::varchar
            when 'certification_id' then r.certification_id_rank
            when 'facility_name' then r.facility_name_rank
            when 'member_name' then r.member_name_rank
            when 'country' then r.country_rank
            when 'country_name' then r.country_name_rank
            when 'region' then r.region_rank
            when 'standard' then r.standard_rank
            when 'standard_version' then r.standard_version_rank
            when 'certification_type' then r.certification_type_rank
            when 'scope' then r.scope_rank
            when 'auditing_firm_name' then r.auditing_firm_name_rank
            when 'issued_on' then r.issued_on_rank
            when 'expires_on' then r.expires_on_rank
            when 'status' then list_position($status_order::varchar[], s.status)
            when 'status_changed_on' then date_diff('day', $as_of::date, s.status_changed_on)
        end as rank_key,
    from shown as s
    inner join ranks as r on r.register_order = s.register_order
),

page as (
    select *
    from keyed
    order by
        case when $descending::boolean then -rank_key else rank_key end nulls last,
        register_order
    limit $row_limit
    offset $row_offset
),

final as (
    select
        s.*,
        p.rank_key,
    from page as p
    inner join shown as s on s.register_order = p.register_order
)

-- the page's rows in the same order; the caller drops register_order and rank_key
select * from final
order by
    case when $descending::boolean then -rank_key else rank_key end nulls last,
    register_order
