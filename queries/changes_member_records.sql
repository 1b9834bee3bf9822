-- The members that joined or left the members tile between two dates ($member_ids:
-- asi_me/queries/changes.py finds them in the tile's own spells,
-- queries/outcomes_member_spells.sql), with what the CRM says of each.
with

changed as (
    select unnest($member_ids::varchar[]) as member_id
),

members as (
    select * from members
),

countries as (
    select * from countries
),

final as (
    select
        m.member_id,
        m.name as member_name,
        m.membership_class,
        m.country,
        k.country_name,
        k.region,
        m.joined_on,
        m.left_on,
    from changed as c
    inner join members as m on m.member_id = c.member_id
    left join countries as k on k.country = m.country
)

select * from final
order by member_name, member_id
