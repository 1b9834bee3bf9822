-- The name of one member company ($member_id); no row when the id is unknown.
with

members as (
    select * from members
),

final as (
    select
        m.member_id,
        m.name,
    from members as m
    where m.member_id = $member_id::varchar
)

select * from final
