-- How many facilities cannot be placed on the map (latitude or longitude missing), within
-- the place, class and member filters: the rows of quality_missing_coordinates, counted.
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
        f.member_id,
        f.country,
    from facilities as f
    where f.latitude is null or f.longitude is null
),

counted as (
    select count(*) as facilities,
    from missing as f
    inner join members as m on m.member_id = f.member_id
    left join countries as k on k.country = f.country
    where (len($countries::varchar[]) = 0 or list_contains($countries::varchar[], f.country))
        and (len($regions::varchar[]) = 0 or list_contains($regions::varchar[], k.region))
        and (
            len($membership_classes::varchar[]) = 0
            or list_contains($membership_classes::varchar[], m.membership_class)
        )
        and ($member_id::varchar is null or f.member_id = $member_id::varchar)
)

select * from counted
