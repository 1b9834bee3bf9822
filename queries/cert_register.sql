-- The public register of certifications as of $as_of: one row per certification
-- issued on or before that date, with its status on that date.
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
        $statuses::varchar[]
    )
),

final as (
    select * from shown
)

-- register_order is country, facility_name, standard, issued_on, certification_id as one
-- number (derived_certification_facts.sql); the caller drops the column
select * from final
order by register_order
