-- Members on each date in $dates (joined on or before, not yet left), per membership class,
-- within the membership-class and headquarters country/region filters. Joining adds one
-- and leaving removes one, so a running total per class answers every date in one pass.
with

dates as (
    select unnest($dates::date[]) as on_date
),

members as (
    select * from members
),

countries as (
    select * from countries
),

filtered_members as (
    select
        m.member_id,
        m.membership_class,
        m.joined_on,
        m.left_on,
    from members as m
    left join countries as k on k.country = m.country
    where (len($countries::varchar[]) = 0 or list_contains($countries::varchar[], m.country))
        and (len($regions::varchar[]) = 0 or list_contains($regions::varchar[], k.region))
        and (
            len($membership_classes::varchar[]) = 0
            or list_contains($membership_classes::varchar[], m.membership_class)
        )
),

events as (
    select membership_class, joined_on as event_on, 1 as change
    from filtered_members
    union all
    select membership_class, left_on as event_on, -1 as change
    from filtered_members
    where left_on is not null
),

running as (
    select
        membership_class,
        event_on,
        sum(sum(change)) over (partition by membership_class order by event_on) as members,
    from events
    group by membership_class, event_on
),

grid as (
    select d.on_date, c.membership_class
    from dates as d
    cross join (select distinct membership_class from filtered_members) as c
),

final as (
    select
        g.on_date,
        g.membership_class,
        r.members::bigint as members,
    from grid as g
    asof inner join running as r
        on g.membership_class = r.membership_class and g.on_date >= r.event_on
)

select * from final
where members > 0
order by on_date, membership_class
