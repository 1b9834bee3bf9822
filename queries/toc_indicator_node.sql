-- The theory-of-change node an indicator measures (no row for an unknown indicator).
with

indicators as (
    select * from indicators
),

final as (
    select i.toc_node_id,
    from indicators as i
    where i.indicator_code = $indicator_code
)

select * from final
