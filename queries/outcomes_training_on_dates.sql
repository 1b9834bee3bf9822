-- People trained through educationAl by each date in $dates (distinct people, not
-- completions), by audience, within the participant country/region filters.
with

dates as (
    select unnest($dates::date[]) as on_date
),

training_records as (
    select * from training_records
),

countries as (
    select * from countries
),

filtered as (
    select t.person_ref, t.audience, t.completed_on
    from training_records as t
    left join countries as k on k.country = t.country
    where (len($countries::varchar[]) = 0 or list_contains($countries::varchar[], t.country))
        and (len($regions::varchar[]) = 0 or list_contains($regions::varchar[], k.region))
),

final as (
    select
        d.on_date,
        count(distinct t.person_ref) filter (where t.audience = 'auditor') as auditors_trained,
        count(distinct t.person_ref) filter (where t.audience in ('member', 'stakeholder'))
            as members_stakeholders_trained,
    from dates as d
    left join filtered as t on t.completed_on <= d.on_date
    group by d.on_date
)

select * from final
order by on_date
