-- Scope 1+2 GHG intensity of each smelter for its latest year on or before year($as_of),
-- within the facility filters. Smelters are facilities with primary aluminium production.
with

smelter_emissions as (
    select * from smelter_emissions
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

latest as (
    select
        e.facility_id,
        e.year,
        e.ghg_intensity_t_per_t,
        e.source,
        row_number() over (partition by e.facility_id order by e.year desc) as recency,
    from smelter_emissions as e
    where e.year <= year($as_of::date)
),

final as (
    select
        l.facility_id,
        f.name as facility_name,
        f.member_id,
        m.name as member_name,
        f.country,
        k.country_name,
        k.region,
        l.year,
        l.ghg_intensity_t_per_t,
        l.source,
    from latest as l
    inner join facilities as f on f.facility_id = l.facility_id
    inner join members as m on m.member_id = f.member_id
    left join countries as k on k.country = f.country
    where l.recency = 1
        and list_contains(f.activities, 'primary_production')
        and (len($countries::varchar[]) = 0 or list_contains($countries::varchar[], f.country))
        and (len($regions::varchar[]) = 0 or list_contains($regions::varchar[], k.region))
        and (
            len($membership_classes::varchar[]) = 0
            or list_contains($membership_classes::varchar[], m.membership_class)
        )
)

select * from final
order by region, country, facility_name
