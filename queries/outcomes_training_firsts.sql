-- People trained through educationAl, by audience group and the date of their first
-- completion within the participant country/region filters (derived training_firsts):
-- the trained tiles count them on each date with running sums (asi_me/outcomes.py), in
-- any order. Someone trained in several countries counts once, from their first
-- completion in the filter.
with

training_firsts as (
    select * from training_firsts
),

filtered as (
    select t.*
    from training_firsts as t
    where (len($countries::varchar[]) = 0 or list_contains($countries::varchar[], t.country))
        and (len($regions::varchar[]) = 0 or list_contains($regions::varchar[], t.region))
),

final as (
    select audience_group, first_on, people
    from filtered
    where person_ref is null
    union all
    select audience_group, min(first_on) as first_on, 1 as people
    from filtered
    where person_ref is not null
    group by person_ref, audience_group
)

select * from final
