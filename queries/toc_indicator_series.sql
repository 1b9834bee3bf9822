-- One indicator's observations for one disaggregation ($dimension, allow-listed in
-- Python) between $period_from and $as_of; the matching filter list restricts the
-- dimension values (regions, membership classes, activities or standards).
with

indicator_observations as (
    select * from indicator_observations
),

final as (
    select
        o.period_on,
        o.dimension,
        o.dimension_value,
        o.value,
        o.status,
    from indicator_observations as o
    where o.indicator_code = $indicator_code
        and o.dimension = $dimension
        and o.period_on <= $as_of::date
        and ($period_from::date is null or o.period_on >= $period_from::date)
        and (len($dimension_values::varchar[]) = 0 or list_contains($dimension_values::varchar[], o.dimension_value))
)

select * from final
order by period_on, dimension_value
