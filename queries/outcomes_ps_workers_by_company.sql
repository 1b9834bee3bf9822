-- People working at facilities that held a valid (certified or provisional) Performance
-- Standard certificate on each date in $dates, per member company and country: the
-- contributions behind the published workers tile. No filters: the disclosure policy in
-- asi_me/outcomes.py decides which geographic cell a viewer may see.
with

dates as (
    select unnest($dates::date[]) as on_date
),

certifications as (
    select * from certifications
),

facilities as (
    select * from facilities
),

countries as (
    select * from countries
),

ps_certifications as (
    select
        c.facility_id,
        c.issued_on,
        c.expires_on,
        c.status,
        c.status_changed_on,
        c.certification_type,
    from certifications as c
    where c.standard = 'PS'
),

covered as (
    select distinct
        d.on_date,
        p.facility_id,
    from dates as d
    inner join ps_certifications as p on p.issued_on <= d.on_date
    where cert_status_on(
        p.issued_on, p.expires_on, p.status, p.status_changed_on, p.certification_type, d.on_date
    ) in ('certified', 'provisional')
),

final as (
    select
        v.on_date,
        f.member_id,
        f.country,
        coalesce(k.region, 'Unknown region') as region,
        coalesce(sum(f.workers), 0)::bigint as workers,
    from covered as v
    inner join facilities as f on f.facility_id = v.facility_id
    left join countries as k on k.country = f.country
    group by v.on_date, f.member_id, f.country, k.region
)

select * from final
order by on_date, member_id, country
