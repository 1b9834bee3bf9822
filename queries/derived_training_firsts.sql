-- People trained through educationAl, by audience group, participant country and the
-- date of their first completion there: the input of the "trained" tiles, computed once
-- per snapshot from every training record. A person counts once, so someone trained in
-- more than one country is listed on their own rows (person_ref set) for the tile to
-- count once within the country filter; everyone else is counted in the people column
-- (person_ref null).
with

training_records as (
    select * from training_records
),

countries as (
    select * from countries
),

person_firsts as (
    select
        t.person_ref,
        case when t.audience = 'auditor' then 'auditors' else 'members_stakeholders' end as audience_group,
        t.country,
        min(t.completed_on) as first_on,
    from training_records as t
    group by all
),

in_several_countries as (
    select person_ref, audience_group
    from person_firsts
    group by all
    having count(*) > 1
),

final as (
    select
        p.audience_group,
        p.country,
        k.region,
        p.first_on,
        null::varchar as person_ref,
        count(*) as people,
    from person_firsts as p
    anti join in_several_countries as s
        on s.person_ref = p.person_ref and s.audience_group = p.audience_group
    left join countries as k on k.country = p.country
    group by all
    union all
    select
        p.audience_group,
        p.country,
        k.region,
        p.first_on,
        p.person_ref,
        1 as people,
    from person_firsts as p
    semi join in_several_countries as s
        on s.person_ref = p.person_ref and s.audience_group = p.audience_group
    left join countries as k on k.country = p.country
)

select * from final
order by audience_group, country, first_on, person_ref
