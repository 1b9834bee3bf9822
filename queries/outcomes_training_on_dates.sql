-- People trained through educationAl by each date in $dates (distinct people, not
-- completions), for auditors and for members and stakeholders together, within the
-- participant country/region filters. A person counts from their first completion, so
-- the running total of first completions (derived training_firsts) answers every date in
-- one pass.
with

dates as (
    select unnest($dates::date[]) as on_date
),

training_firsts as (
    select * from training_firsts
),

filtered as (
    select t.*
    from training_firsts as t
    where (len($countries::varchar[]) = 0 or list_contains($countries::varchar[], t.country))
        and (len($regions::varchar[]) = 0 or list_contains($regions::varchar[], t.region))
),

-- people trained in several countries count once, from their first completion in the filter
daily as (
    select audience_group, first_on, sum(people) as people
    from (
        select audience_group, first_on, people
        from filtered
        where person_ref is null
        union all
        select audience_group, min(first_on) as first_on, 1 as people
        from filtered
        where person_ref is not null
        group by person_ref, audience_group
    )
    group by audience_group, first_on
),

running as (
    select
        audience_group,
        first_on,
        sum(people) over (partition by audience_group order by first_on) as trained,
    from daily
),

grid as (
    select d.on_date, g.audience_group
    from dates as d
    cross join (values ('auditors'), ('members_stakeholders')) as g (audience_group)
),

on_dates as (
    select g.on_date, g.audience_group, coalesce(r.trained, 0) as trained
    from grid as g
    asof left join running as r
        on g.audience_group = r.audience_group and g.on_date >= r.first_on
),

final as (
    select
        on_date,
        sum(trained) filter (where audience_group = 'auditors')::bigint as auditors_trained,
        sum(trained) filter (where audience_group = 'members_stakeholders')::bigint as members_stakeholders_trained,
    from on_dates
    group by on_date
)

select * from final
order by on_date
