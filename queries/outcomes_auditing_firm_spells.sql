-- Each accredited auditing firm's accreditation spell (accredited on, ended on; null while
-- accredited) per country it operates in, within the country/region filters: the firms
-- tile counts the distinct firms and countries whose spells cover each date
-- (asi_me/outcomes.py), in any order.
with

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

final as (
    select fc.*
    from firm_countries as fc
    left join countries as k on k.country = fc.country
    where (len($countries::varchar[]) = 0 or list_contains($countries::varchar[], fc.country))
        and (len($regions::varchar[]) = 0 or list_contains($regions::varchar[], k.region))
)

select * from final
