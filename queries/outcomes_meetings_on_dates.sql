-- Governance meetings held by each date in $dates, per body.
with

dates as (
    select unnest($dates::date[]) as on_date
),

governance_meetings as (
    select * from governance_meetings
),

final as (
    select
        d.on_date,
        count(g.meeting_id) filter (where g.body = 'board') as board_meetings,
        count(g.meeting_id) filter (where g.body = 'standards_committee') as standards_committee_meetings,
        count(g.meeting_id) filter (where g.body = 'ipaf') as ipaf_meetings,
    from dates as d
    left join governance_meetings as g on g.held_on <= d.on_date
    group by d.on_date
)

select * from final
order by on_date
