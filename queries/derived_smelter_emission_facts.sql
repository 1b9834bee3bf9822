-- Every reported year of every smelter (a facility with primary aluminium production) with
-- the facility, member and country facts the emissions filters read, joined once per
-- snapshot: cert_smelter_emissions.sql then only picks each smelter's latest year.
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

final as (
    select
        e.facility_id,
        e.year,
        e.ghg_intensity_t_per_t,
        e.source,
        f.name as facility_name,
        f.member_id,
        m.name as member_name,
        m.membership_class,
        f.country,
        k.country_name,
        k.region,
    from smelter_emissions as e
    inner join facilities as f on f.facility_id = e.facility_id
    inner join members as m on m.member_id = f.member_id
    left join countries as k on k.country = f.country
    where list_contains(f.activities, 'primary_production')
)

select * from final
order by facility_id, year
