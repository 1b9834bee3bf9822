-- How many indicator observations are more than $threshold modified z-scores from their
-- series (the indicator_outliers derived table; valid for $threshold >= 3.5).
with

indicator_outliers as (
    select * from indicator_outliers
),

final as (
    select count(*) as outliers,
    from indicator_outliers as o
    where abs(o.robust_z) > $threshold::double
)

select * from final
