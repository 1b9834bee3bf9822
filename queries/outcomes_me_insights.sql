-- The latest headline (total) value of each monthly level-1 indicator on or before
-- $as_of, with the value of the period before it.
with

indicators as (
    select * from indicators
),

indicator_observations as (
    select * from indicator_observations
),

insight_indicators as (
    select *
    from indicators
    where level = '1' and frequency = 'monthly'
),

ranked as (
    select
        o.indicator_code,
        o.period_on,
        o.value,
        o.status,
        row_number() over (partition by o.indicator_code order by o.period_on desc) as recency,
    from indicator_observations as o
    where o.dimension = 'total' and o.period_on <= $as_of::date
),

final as (
    select
        i.indicator_code,
        i.name,
        i.definition,
        i.unit,
        i.direction,
        latest.period_on,
        latest.value,
        latest.status,
        previous.period_on as previous_period_on,
        previous.value as previous_value,
        latest.value - previous.value as change,
    from insight_indicators as i
    left join ranked as latest on latest.indicator_code = i.indicator_code and latest.recency = 1
    left join ranked as previous on previous.indicator_code = i.indicator_code and previous.recency = 2
)

select * from final
order by indicator_code
