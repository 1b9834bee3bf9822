-- What evaluations and Stories of Change found about the Theory of Change: each finding with
-- the evidence it comes from, the node (and indicator) it bears on, and whether it confirms
-- or questions it; optionally only findings on $node_id and of bearing $bearing (null: any).
with

evidence_findings as (
    select * from evidence_findings
),

evidence as (
    select * from evidence
),

toc_nodes as (
    select * from toc_nodes
),

indicators as (
    select * from indicators
),

final as (
    select
        f.evidence_id,
        f.finding_no,
        e.title as evidence_title,
        e.kind,
        e.status as evidence_status,
        e.completed_on,
        f.finding,
        f.bearing,
        f.toc_node_id,
        coalesce(n.label, f.toc_node_id) as toc_node_label,
        n.node_type as toc_node_type,
        f.indicator_code,
        i.name as indicator_name,
    from evidence_findings as f
    left join evidence as e on e.evidence_id = f.evidence_id
    left join toc_nodes as n on n.node_id = f.toc_node_id
    left join indicators as i on i.indicator_code = f.indicator_code
    where ($node_id::varchar is null or f.toc_node_id = $node_id::varchar)
        and ($bearing::varchar is null or f.bearing = $bearing::varchar)
)

select * from final
order by completed_on desc nulls last, evidence_id, finding_no
