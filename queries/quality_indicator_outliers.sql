-- Indicator observations more than $threshold modified z-scores from their series, read
-- from the indicator_outliers derived table (scored once per snapshot, kept beyond 3.5):
-- only valid for $threshold >= 3.5; asi_me.quality runs quality_indicator_outliers_all
-- for a lower one. The derived table is stored (and created) in the order asked for here,
-- and a filtered scan keeps that order (DuckDB preserves insertion order), so the rows come
-- sorted without sorting them again.
with

indicator_outliers as (
    select * from indicator_outliers
),

final as (
    select
        o.indicator_code,
        o.period_on,
        o.dimension,
        o.dimension_value,
        o.value,
        o.median_value,
        o.mad_value,
        o.robust_z,
    from indicator_outliers as o
    where abs(o.robust_z) > $threshold::double
)

select * from final
