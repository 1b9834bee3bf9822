-- Each member's spell of membership (joined on, left on; null while still a member) within
-- the membership-class and headquarters country/region filters: the members tile counts
-- the spells that cover each date (asi_me/outcomes.py), in any order; the change breakdown
-- (asi_me/queries/changes.py) tells the members apart by member_id.
with

members as (
    select * from members
),

countries as (
    select * from countries
),

final as (
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
)

select * from final
