-- Per country as of $as_of, for the choropleth: facilities holding a valid (certified or
-- provisional) certification, valid certificates by standard, all certifications shown
-- in the register (same filters as cert_register.sql), and the centroid as the mean of
-- the facilities' coordinates.
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

facility_positions as (
    select distinct facility_id, country, latitude, longitude
    from shown
),

centroids as (
    -- a compensated sum in facility order, so the centroid is the same to the last bit on every run
    select
        country,
        fsum(latitude order by facility_id) / count(latitude) as latitude,
        fsum(longitude order by facility_id) / count(longitude) as longitude,
    from facility_positions
    group by country
),

counts as (
    select
        country,
        any_value(country_name) as country_name,
        any_value(region) as region,
        count(distinct facility_id) filter (where status in ('certified', 'provisional')) as certified_facilities,
        count(*) filter (where standard = 'PS' and status in ('certified', 'provisional')) as ps_certificates,
        count(*) filter (where standard = 'CoC' and status in ('certified', 'provisional')) as coc_certificates,
        count(*) as certifications_shown,
    from shown
    group by country
),

final as (
    select
        c.country,
        c.country_name,
        c.region,
        c.certified_facilities,
        c.ps_certificates,
        c.coc_certificates,
        c.certifications_shown,
        p.latitude,
        p.longitude,
    from counts as c
    left join centroids as p on p.country = c.country
)

select * from final
order by certified_facilities desc, country
