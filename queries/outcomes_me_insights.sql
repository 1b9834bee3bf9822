-- The latest headline (total) value of each monthly level-1 indicator on or before
-- $as_of, with the value of the period before it. Reads the derived indicator_totals
-- (the dimension = 'total' observations, about 3% of all). Each names the Theory-of-Change
-- node (output or outcome) its indicator reports on.
with

indicators as (
    select * from indicators
),

indicator_totals as (
    select * from indicator_totals
),

toc_nodes as (
    select * from toc_nodes
),

insight_indicators as (
    select *
    from indicators
    where level = '1' and frequency = 'monthly'
),

last_two as (
    select
        o.indicator_code,
        max_by({'period_on': o.period_on, 'value': o.value, 'status': o.status}, o.period_on, 2) as periods,
    from indicator_totals as o
    inner join insight_indicators as i on i.indicator_code = o.indicator_code
    where o.period_on <= $as_of::date
    group by o.indicator_code
),

final as (
    select
        i.indicator_code,
        i.name,
        i.definition,
        i.unit,
        i.direction,
        t.periods[1].period_on as period_on,
        t.periods[1].value as value,
        t.periods[1].status as status,
        t.periods[2].period_on as previous_period_on,
        t.periods[2].value as previous_value,
        t.periods[1].value - t.periods[2].value as change,
        i.toc_node_id,
        coalesce(n.label, i.toc_node_id) as toc_node_label,
        n.node_type as toc_node_type,
    from insight_indicators as i
    left join last_two as t on t.indicator_code = i.indicator_code
    left join toc_nodes as n on n.node_id = i.toc_node_id
)

select * from final
order by indicator_code
