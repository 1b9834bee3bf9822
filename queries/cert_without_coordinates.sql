-- Facilities in the register as of $as_of (same filters as cert_register.sql) that have
-- no coordinates and so cannot be placed on the map.
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
    select distinct
        facility_id,
        member_id,
        facility_name,
    from shown
    where latitude is null or longitude is null
)

select * from final
order by facility_name, facility_id
