-- Causal links between theory-of-change nodes.
with

toc_edges as (
    select * from toc_edges
),

final as (
    select
        e.source_node_id,
        e.target_node_id,
    from toc_edges as e
)

select * from final
order by source_node_id, target_node_id
