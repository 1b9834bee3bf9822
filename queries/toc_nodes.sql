-- Theory-of-change nodes with their level order for layout (strategies first).
with

toc_nodes as (
    select * from toc_nodes
),

final as (
    select
        n.node_id,
        n.label,
        n.node_type,
        n.impact_area,
        n.description,
        case n.node_type
            when 'strategy' then 0
            when 'output' then 1
            when 'short_term_outcome' then 2
            when 'medium_term_outcome' then 3
            when 'long_term_impact' then 4
        end as level_order,
    from toc_nodes as n
)

select * from final
order by level_order, node_id
