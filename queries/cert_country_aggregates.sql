-- Per country as of $as_of, for the choropleth: facilities holding a valid (certified or
-- provisional) certification, valid certificates by standard, all certifications shown
-- in the register (same filters as cert_register.sql), and the centroid as the mean of
-- the facilities' coordinates.
with

certifications as (
    select * from certifications
),

facilities as (
    select * from facilities
),

members as (
    select * from members
),

auditing_firms as (
    select * from auditing_firms
),

countries as (
    select * from countries
),

with_status as (
    select
        c.certification_id,
        c.facility_id,
        f.name as facility_name,
        f.member_id,
        m.name as member_name,
        m.membership_class,
        f.country,
        k.country_name,
        k.region,
        f.latitude,
        f.longitude,
        f.activities,
        c.standard,
        c.standard_version,
        c.certification_type,
        cert_status_on(
            c.issued_on, c.expires_on, c.status, c.status_changed_on, c.certification_type, $as_of::date
        ) as status,
        c.issued_on,
        c.expires_on,
        case
            when c.status in ('withdrawn', 'suspended') and c.status_changed_on <= $as_of::date
                then c.status_changed_on
        end as status_changed_on,
        c.scope,
        c.auditing_firm_id,
        a.name as auditing_firm_name,
        c.external_certifications,
    from certifications as c
    inner join facilities as f on f.facility_id = c.facility_id
    inner join members as m on m.member_id = f.member_id
    left join countries as k on k.country = f.country
    left join auditing_firms as a on a.auditing_firm_id = c.auditing_firm_id
    where c.issued_on <= $as_of::date
        and (len($countries::varchar[]) = 0 or list_contains($countries::varchar[], f.country))
        and (len($regions::varchar[]) = 0 or list_contains($regions::varchar[], k.region))
        and (len($activities::varchar[]) = 0 or list_has_any(f.activities, $activities::varchar[]))
        and (len($standards::varchar[]) = 0 or list_contains($standards::varchar[], c.standard))
        and (len($versions::varchar[]) = 0 or list_contains($versions::varchar[], c.standard_version))
        and (
            len($membership_classes::varchar[]) = 0
            or list_contains($membership_classes::varchar[], m.membership_class)
        )
),

shown as (
    select *
    from with_status
    where len($statuses::varchar[]) = 0 or list_contains($statuses::varchar[], status)
),

facility_positions as (
    select distinct facility_id, country, latitude, longitude
    from shown
),

centroids as (
    select country, avg(latitude) as latitude, avg(longitude) as longitude
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
