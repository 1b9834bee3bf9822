-- The assumptions the Theory of Change rests on, with the node each supports, where the
-- evidence leaves it and the evaluation or Story of Change that tested it; optionally only
-- those of $node_id (null: all). Questioned assumptions first.
with

toc_assumptions as (
    select * from toc_assumptions
),

toc_nodes as (
    select * from toc_nodes
),

evidence as (
    select * from evidence
),

final as (
    select
        a.assumption_id,
        a.assumption,
        a.status,
        a.toc_node_id,
        coalesce(n.label, a.toc_node_id) as toc_node_label,
        n.node_type as toc_node_type,
        a.evidence_id,
        e.title as evidence_title,
    from toc_assumptions as a
    left join toc_nodes as n on n.node_id = a.toc_node_id
    left join evidence as e on e.evidence_id = a.evidence_id
    where $node_id::varchar is null or a.toc_node_id = $node_id::varchar
)

select * from final
order by
    case status when 'questioned' then 0 when 'holds' then 1 else 2 end,
    assumption_id
