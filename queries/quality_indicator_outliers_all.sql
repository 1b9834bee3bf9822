-- Indicator observations far from the rest of their series (one indicator, one
-- dimension value): modified z-score (value - median) / (1.4826 x MAD) beyond
-- $threshold. Series whose MAD is zero have no robust scale and are not scored.
with

indicator_observations as (
    select * from indicator_observations
),

series as (
    select
        o.indicator_code,
        o.dimension,
        o.dimension_value,
        median(o.value) as median_value,
        mad(o.value) as mad_value,
    from indicator_observations as o
    group by o.indicator_code, o.dimension, o.dimension_value
),

scored as (
    select
        o.indicator_code,
        o.period_on,
        o.dimension,
        o.dimension_value,
        o.value,
        s.median_value,
        s.mad_value,
        (o.value - s.median_value) / (1.4826 * s.mad_value) as robust_z,
    from indicator_observations as o
    inner join series as s
        on s.indicator_code = o.indicator_code
        and s.dimension = o.dimension
        and s.dimension_value = o.dimension_value
    where s.mad_value > 0
)

select * from scored
where abs(robust_z) > $threshold::double
order by indicator_code, dimension, dimension_value, period_on
