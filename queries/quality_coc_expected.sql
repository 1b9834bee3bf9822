-- CoC reports expected vs received, one row per facility and reporting year. A
-- facility is expected to report for a year when it held a CoC certification valid
-- at any time in that year; it has reported when it has any CoC report line for it.
-- Years run from the first to the last reporting year in the data.
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

countries as (
    select * from countries
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
    select distinct
        r.reporting_year,
        r.facility_id,
    from coc_reports as r
),

facility_years as (
    select
        coalesce(e.reporting_year, r.reporting_year) as reporting_year,
        coalesce(e.facility_id, r.facility_id) as facility_id,
        e.facility_id is not null as is_expected,
        r.facility_id is not null as is_received,
    from expected as e
    full outer join received as r
        on r.reporting_year = e.reporting_year and r.facility_id = e.facility_id
),

described as (
    select
        fy.reporting_year,
        fy.facility_id,
        f.name as facility_name,
        f.member_id,
        m.name as member_name,
        f.country,
        fy.is_expected,
        fy.is_received,
    from facility_years as fy
    inner join facilities as f on f.facility_id = fy.facility_id
    inner join members as m on m.member_id = f.member_id
    left join countries as k on k.country = f.country
    where (len($countries::varchar[]) = 0 or list_contains($countries::varchar[], f.country))
        and (len($regions::varchar[]) = 0 or list_contains($regions::varchar[], k.region))
        and (
            len($membership_classes::varchar[]) = 0
            or list_contains($membership_classes::varchar[], m.membership_class)
        )
        and ($member_id::varchar is null or f.member_id = $member_id::varchar)
)

select * from described
order by reporting_year, facility_id
