-- The certification status segments (the derived certification_segments) that the filter
-- bar selects, each with its status on its first day: what the certificate tiles count.
-- A certification's status only changes on its issue, status-change and expiry dates, so
-- a segment holds one status from segment_start up to (not including) segment_end (null:
-- open-ended). asi_me/outcomes.py reads the counts on every date from these intervals
-- with running sums (certificates issued and valid, countries and facilities covered),
-- which do not depend on the order of the rows, so none is imposed. The change breakdown
-- (asi_me/queries/changes.py) reads the same rows and tells certificates apart by
-- certification_id, so that its entries and exits add up to the tiles' change.
with

certification_segments as (
    select * from certification_segments
),

segments as (
    select
        s.certification_id,
        s.facility_key,
        s.country_key,
        s.workers,
        s.standard,
        s.is_leveraging_external,
        s.segment_start,
        s.segment_end,
        cert_status_on(
            s.issued_on, s.expires_on, s.status, s.status_changed_on, s.certification_type, s.segment_start
        ) as status_on,
    from certification_segments as s
    where (len($countries::varchar[]) = 0 or list_contains($countries::varchar[], s.country))
        and (len($regions::varchar[]) = 0 or list_contains($regions::varchar[], s.region))
        and (len($activities::varchar[]) = 0 or list_has_any(s.activities, $activities::varchar[]))
        and (len($standards::varchar[]) = 0 or list_contains($standards::varchar[], s.standard))
        and (len($versions::varchar[]) = 0 or list_contains($versions::varchar[], s.standard_version))
        and (
            len($membership_classes::varchar[]) = 0
            or list_contains($membership_classes::varchar[], s.membership_class)
        )
),

final as (
    select
        certification_id,
        facility_key,
        country_key,
        coalesce(workers, 0) as workers,
        segment_start,
        segment_end,
        standard = 'PS' as is_ps,
        standard = 'CoC' as is_coc,
        status_on in ('certified', 'provisional') as is_valid,
        coalesce(is_leveraging_external, false) as is_leveraging_external,
    from segments
    where len($statuses::varchar[]) = 0 or list_contains($statuses::varchar[], status_on)
)

select * from final
