-- World production per stage (IAI) for one year, the denominator of "% of global".
with

global_totals as (
    select * from global_totals
),

year_totals as (
    select
        g.stage,
        g.global_t,
        g.source,
    from global_totals as g
    where g.year = $year::integer
)

select * from year_totals
order by stage
