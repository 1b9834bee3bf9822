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

select * from final
order by country, facility_name, standard, issued_on, certification_id
