-- Certificate counts on each date in $dates: cumulative issued (the way ASI publishes
-- them), currently valid (certified or provisional), countries with a valid certification,
-- PS certifications leveraging external certifications and people working in facilities
-- holding a valid PS certification.
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
        c.standard,
        c.issued_on,
        c.expires_on,
        c.status,
        c.status_changed_on,
        c.certification_type,
        len(c.external_certifications) > 0 as is_leveraging_external,
        f.country,
        f.workers,
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
        c.*,
        cert_status_on(
            c.issued_on, c.expires_on, c.status, c.status_changed_on, c.certification_type, d.on_date
        ) as status_on,
    from dates as d
    inner join filtered_certifications as c on c.issued_on <= d.on_date
),

shown as (
    select
        *,
        status_on in ('certified', 'provisional') as is_valid,
    from status_on_dates
    where len($statuses::varchar[]) = 0 or list_contains($statuses::varchar[], status_on)
),

-- a facility with two valid PS certificates still counts its workers once
ps_facilities as (
    select distinct on_date, facility_id, workers
    from shown
    where standard = 'PS' and is_valid
),

ps_workers as (
    select on_date, sum(workers) as ps_workers
    from ps_facilities
    group by on_date
),

counts as (
    select
        on_date,
        count(*) filter (where standard = 'PS') as ps_issued,
        count(*) filter (where standard = 'CoC') as coc_issued,
        count(*) filter (where standard = 'PS' and is_valid) as ps_valid,
        count(*) filter (where standard = 'CoC' and is_valid) as coc_valid,
        count(distinct country) filter (where is_valid) as countries_valid,
        count(*) filter (where standard = 'PS' and is_valid and is_leveraging_external) as ps_valid_leveraging,
    from shown
    group by on_date
),

final as (
    select
        d.on_date,
        coalesce(c.ps_issued, 0) as ps_issued,
        coalesce(c.coc_issued, 0) as coc_issued,
        coalesce(c.ps_valid, 0) as ps_valid,
        coalesce(c.coc_valid, 0) as coc_valid,
        coalesce(c.countries_valid, 0) as countries_valid,
        coalesce(c.ps_valid_leveraging, 0) as ps_valid_leveraging,
        coalesce(w.ps_workers, 0) as ps_workers,
    from dates as d
    left join counts as c on c.on_date = d.on_date
    left join ps_workers as w on w.on_date = d.on_date
)

select * from final
order by on_date
