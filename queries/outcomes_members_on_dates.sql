-- Members on each date in $dates (joined on or before, not yet left), per membership class,
-- within the membership-class and headquarters country/region filters.
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

final as (
    select
        d.on_date,
        m.membership_class,
        count(m.member_id) as members,
    from dates as d
    inner join filtered_members as m
        on m.joined_on <= d.on_date and (m.left_on is null or m.left_on > d.on_date)
    group by d.on_date, m.membership_class
)

select * from final
order by on_date, membership_class
