-- CoC reporting per facility and reporting year, once per snapshot: whether the facility
-- was expected to report (it held a CoC certification valid at any time in that year),
-- whether it reported (any CoC report line for the year), and when (latest submission,
-- earliest due date), with the facility and member it belongs to. Years run from the
-- first to the last reporting year in the data. The expected-vs-received and late-report
-- flags filter and count this table instead of joining every certification to every year.
with

coc_reports as (
    select * from coc_reports
),

certifications as (
    select * from certifications
),

facilities as (
    select * from facilities
),

members as (
    select * from members
),

years as (
    select unnest(generate_series(min(reporting_year), max(reporting_year))) as reporting_year
    from coc_reports
),

coc_validity as (
    select
        c.facility_id,
        c.issued_on,
        -- A suspension or withdrawal ends validity early; otherwise the expiry date does.
        case
            when c.status in ('withdrawn', 'suspended') and c.status_changed_on is not null
                then least(c.status_changed_on, c.expires_on)
            else c.expires_on
        end as ends_on,
    from certifications as c
    where c.standard = 'CoC'
),

expected as (
    select distinct
        y.reporting_year,
        v.facility_id,
    from years as y
    inner join coc_validity as v
        on v.issued_on <= make_date(y.reporting_year::bigint, 12, 31)
        and v.ends_on > make_date(y.reporting_year::bigint, 1, 1)
),

received as (
    select
        r.reporting_year,
        r.facility_id,
        max(r.submitted_on) as submitted_on,
        min(r.due_on) as due_on,
    from coc_reports as r
    group by r.reporting_year, r.facility_id
),

facility_years as (
    select
        coalesce(e.reporting_year, r.reporting_year) as reporting_year,
        coalesce(e.facility_id, r.facility_id) as facility_id,
        e.facility_id is not null as is_expected,
        r.facility_id is not null as is_received,
        r.submitted_on,
        r.due_on,
    from expected as e
    full outer join received as r
        on r.reporting_year = e.reporting_year and r.facility_id = e.facility_id
),

final as (
    select
        fy.reporting_year,
        fy.facility_id,
        f.name as facility_name,
        f.member_id,
        m.name as member_name,
        f.country,
        m.membership_class,
        fy.is_expected,
        fy.is_received,
        fy.submitted_on,
        fy.due_on,
    from facility_years as fy
    inner join facilities as f on f.facility_id = fy.facility_id
    inner join members as m on m.member_id = f.member_id
)

select * from final
order by reporting_year, facility_id
