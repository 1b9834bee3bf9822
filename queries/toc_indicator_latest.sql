-- Every indicator with its metadata and its latest headline (total) observation on or
-- before $as_of, read from the indicator_totals derived table (the total rows only).
with

indicators as (
    select * from indicators
),

indicator_totals as (
    select * from indicator_totals
),

latest as (
    select
        o.indicator_code,
        max(o.period_on) as period_on,
        arg_max(o.value, o.period_on) as value,
        arg_max(o.status, o.period_on) as status,
    from indicator_totals as o
    where o.period_on <= $as_of::date
    group by o.indicator_code
),

final as (
    select
        i.indicator_code,
        i.name,
        i.definition,
        i.unit,
        i.level,
        i.data_source,
        i.frequency,
        i.is_iseal_cci,
        i.iseal_cci_area,
        i.direction,
        i.baseline_value,
        i.baseline_on,
        i.target_value,
        i.target_on,
        i.toc_node_id,
        r.period_on as latest_period_on,
        r.value as latest_value,
        r.status as latest_status,
    from indicators as i
    left join latest as r on r.indicator_code = i.indicator_code
)

select * from final
order by indicator_code
