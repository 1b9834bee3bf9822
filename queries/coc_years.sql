-- Reporting years that have at least one CoC report line, with the date the year's
-- reports were due (the latest due date of its lines; null when none is recorded).
with

coc_reports as (
    select * from coc_reports
),

years as (
    select
        reporting_year,
        max(due_on) as due_on,
    from coc_reports
    group by reporting_year
)

select reporting_year, due_on from years
order by reporting_year
