-- Accredited auditing firms on each date in $dates and the countries they operate in,
-- restricted to firms operating in the filtered countries/regions.
with

dates as (
    select unnest($dates::date[]) as on_date
),

auditing_firms as (
    select * from auditing_firms
),

countries as (
    select * from countries
),

firm_countries as (
    select
        a.auditing_firm_id,
        a.accredited_on,
        a.accreditation_ended_on,
        unnest(a.countries) as country,
    from auditing_firms as a
),

filtered as (
    select fc.*
    from firm_countries as fc
    left join countries as k on k.country = fc.country
    where (len($countries::varchar[]) = 0 or list_contains($countries::varchar[], fc.country))
        and (len($regions::varchar[]) = 0 or list_contains($regions::varchar[], k.region))
),

accredited as (
    select d.on_date, f.auditing_firm_id, f.country
    from dates as d
    inner join filtered as f
        on f.accredited_on <= d.on_date
        and (f.accreditation_ended_on is null or f.accreditation_ended_on > d.on_date)
),

final as (
    select
        d.on_date,
        count(distinct a.auditing_firm_id) as auditing_firms,
        count(distinct a.country) as auditor_countries,
    from dates as d
    left join accredited as a on a.on_date = d.on_date
    group by d.on_date
)

select * from final
order by on_date
