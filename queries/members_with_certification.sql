-- Member companies holding at least one certification (any status, any date), by name:
-- the companies a member's own view can be shown for.
with

members as (
    select * from members
),

facilities as (
    select * from facilities
),

certifications as (
    select * from certifications
),

certified as (
    select distinct f.member_id
    from certifications as c
    inner join facilities as f on f.facility_id = c.facility_id
),

final as (
    select
        m.member_id,
        m.name,
    from members as m
    inner join certified as c on c.member_id = m.member_id
)

select * from final
order by name, member_id
