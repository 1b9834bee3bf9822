-- Facilities that cannot be placed on the map: latitude or longitude missing.
with

facilities as (
    select * from facilities
),

members as (
    select * from members
),

countries as (
    select * from countries
),

missing as (
    select
        f.facility_id,
        f.name as facility_name,
        f.member_id,
        m.name as member_name,
        f.country,
        k.country_name,
    from facilities as f
    inner join members as m on m.member_id = f.member_id
    left join countries as k on k.country = f.country
    where (f.latitude is null or f.longitude is null)
        and (len($countries::varchar[]) = 0 or list_contains($countries::varchar[], f.country))
        and (len($regions::varchar[]) = 0 or list_contains($regions::varchar[], k.region))
        and (
            len($membership_classes::varchar[]) = 0
            or list_contains($membership_classes::varchar[], m.membership_class)
        )
        and ($member_id::varchar is null or f.member_id = $member_id::varchar)
)

select * from missing
order by facility_id
