-- For each date in $dates: certifications issued by then, valid certificates and
-- facilities holding a valid certification, within every register filter.
with

dates as (
    select unnest($dates::date[]) as on_date
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

filtered_certifications as (
    select
        c.certification_id,
        c.facility_id,
        c.issued_on,
        c.expires_on,
        c.status,
        c.status_changed_on,
        c.certification_type,
    from certifications as c
    inner join facilities as f on f.facility_id = c.facility_id
    inner join members as m on m.member_id = f.member_id
    left join countries as k on k.country = f.country
    where (len($countries::varchar[]) = 0 or list_contains($countries::varchar[], f.country))
        and (len($regions::varchar[]) = 0 or list_contains($regions::varchar[], k.region))
        and (len($activities::varchar[]) = 0 or list_has_any(f.activities, $activities::varchar[]))
        and (len($standards::varchar[]) = 0 or list_contains($standards::varchar[], c.standard))
        and (len($versions::varchar[]) = 0 or list_contains($versions::varchar[], c.standard_version))
        and (
            len($membership_classes::varchar[]) = 0
            or list_contains($membership_classes::varchar[], m.membership_class)
        )
),

status_on_dates as (
    select
        d.on_date,
        c.facility_id,
        cert_status_on(
            c.issued_on, c.expires_on, c.status, c.status_changed_on, c.certification_type, d.on_date
        ) as status_on,
    from dates as d
    inner join filtered_certifications as c on c.issued_on <= d.on_date
),

shown as (
    select *
    from status_on_dates
    where len($statuses::varchar[]) = 0 or list_contains($statuses::varchar[], status_on)
),

counts as (
    select
        on_date,
        count(*) as certifications_shown,
        count(*) filter (where status_on in ('certified', 'provisional')) as certificates_valid,
        count(distinct facility_id) filter (where status_on in ('certified', 'provisional'))
            as certified_facilities,
    from shown
    group by on_date
),

final as (
    select
        d.on_date,
        coalesce(c.certifications_shown, 0) as certifications_shown,
        coalesce(c.certificates_valid, 0) as certificates_valid,
        coalesce(c.certified_facilities, 0) as certified_facilities,
    from dates as d
    left join counts as c on c.on_date = d.on_date
)

select * from final
order by on_date
