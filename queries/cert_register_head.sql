-- The first $row_limit rows of the public register as of $as_of (cert_register.sql, same
-- filters, columns and order), for a page that shows only the first rows.
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

-- register_order is country, facility_name, standard, issued_on, certification_id as one
-- number (derived_certification_facts.sql); the caller drops the column
select * from final
order by register_order
limit $row_limit
