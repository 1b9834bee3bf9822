-- Reporting years that have at least one CoC report line.
with

coc_reports as (
    select * from coc_reports
),

years as (
    select distinct reporting_year from coc_reports
)

select reporting_year from years
order by reporting_year
