-- The public register of certifications as of $as_of: one row per certification
-- issued on or before that date, with its status on that date. With the filter bar's period
-- ($period_from, $period_to; null: open), only those issued within it.
with

shown as (
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

final as (
    select * from shown
)

-- No sort: certification_facts is stored in register order (country, facility_name, standard,
-- issued_on, certification_id; derived_certification_facts.sql) and DuckDB keeps a table's
-- order through filters and projections (preserve_insertion_order, on by default). Sorting
-- 71,000 rows again cost a third of the query at 100x; tests/test_certifications.py checks
-- the order. register_order is for queries that need only the first rows; the caller drops it.
select * from final
