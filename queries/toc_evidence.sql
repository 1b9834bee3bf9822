-- Evaluations and Stories of Change, optionally only those evidencing one of $node_ids,
-- of kind $kind and with status $status (null means any).
with

evidence as (
    select * from evidence
),

final as (
    select
        e.evidence_id,
        e.kind,
        e.title,
        e.status,
        e.started_on,
        e.completed_on,
        e.author,
        e.summary,
        e.url,
        e.toc_node_ids,
    from evidence as e
    where (len($node_ids::varchar[]) = 0 or list_has_any(e.toc_node_ids, $node_ids::varchar[]))
        and ($kind::varchar is null or e.kind = $kind::varchar)
        and ($status::varchar is null or e.status = $status::varchar)
)

select * from final
order by coalesce(completed_on, started_on) desc nulls last, evidence_id
