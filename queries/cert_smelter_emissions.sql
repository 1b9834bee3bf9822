-- Scope 1+2 GHG intensity of each smelter for its latest year on or before year($as_of),
-- within the facility filters. Smelters are facilities with primary aluminium production
-- (derived_smelter_emission_facts.sql).
with

smelter_years as (
    select * from smelter_emission_facts
),

latest as (
    select
        *,
        row_number() over (partition by facility_id order by year desc) as recency,
    from smelter_years
    where year <= year($as_of::date)
),

final as (
    select
        facility_id,
        facility_name,
        member_id,
        member_name,
        country,
        country_name,
        region,
        year,
        ghg_intensity_t_per_t,
        source,
    from latest
    where recency = 1
        and (len($countries::varchar[]) = 0 or list_contains($countries::varchar[], country))
        and (len($regions::varchar[]) = 0 or list_contains($regions::varchar[], region))
        and (
            len($membership_classes::varchar[]) = 0
            or list_contains($membership_classes::varchar[], membership_class)
        )
)

select * from final
order by region, country, facility_name, facility_id
