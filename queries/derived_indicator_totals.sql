-- The headline (total) observations of every indicator, about 3% of all observations:
-- the latest value, status and series of an indicator read from here, not from every
-- disaggregated row.
with

indicator_observations as (
    select * from indicator_observations
),

final as (
    select *
    from indicator_observations
    where dimension = 'total'
)

select * from final
order by indicator_code, period_on, dimension_value
