-- The Theory-of-Change nodes that evaluations or Stories of Change give evidence for, with
-- how many of each kind link to the node (an item counts once per node it names).
with

evidence as (
    select * from evidence
),

toc_nodes as (
    select * from toc_nodes
),

links as (
    select distinct
        e.evidence_id,
        e.kind,
        unnest(e.toc_node_ids) as node_id,
    from evidence as e
),

counted as (
    select
        l.node_id,
        count(*) filter (where l.kind = 'evaluation') as evaluations,
        count(*) filter (where l.kind = 'story_of_change') as stories_of_change,
        count(*) as items,
    from links as l
    group by l.node_id
),

final as (
    select
        c.node_id,
        coalesce(n.label, c.node_id) as label,
        n.node_type,
        c.evaluations,
        c.stories_of_change,
        c.items,
    from counted as c
    left join toc_nodes as n on n.node_id = c.node_id
)

select * from final
order by label, node_id
