-- The certifications that entered or left a certificate tile between $start_on and $end_on
-- ($certification_ids: asi_me/queries/changes.py finds them in the tile's own segments,
-- queries/outcomes_certificate_segments.sql): what the register says of each, its status on
-- both dates (the one definition, cert_status_on) and the facility's previous certificate of
-- the same standard, which tells a new certification from a recertification.
with

changed as (
    select unnest($certification_ids::varchar[]) as certification_id
),

facts as (
    select * from cert_rows()
),

changed_facts as (
    select f.*
    from changed as c
    inner join facts as f on f.certification_id = c.certification_id
),

-- only the facilities of changed certificates: a window over the whole register costs more
-- than the rest of the breakdown at 100x
facility_history as (
    select f.certification_id, f.facility_id, f.standard, f.issued_on, f.certification_type,
    from facts as f
    where f.facility_id in (select facility_id from changed_facts)
),

previous as (
    select
        certification_id,
        lag(certification_id) over facility_standard as previous_certification_id,
        lag(certification_type) over facility_standard as previous_certification_type,
    from facility_history
    window facility_standard as (partition by facility_id, standard order by issued_on, certification_id)
),

final as (
    select
        f.certification_id,
        f.facility_id,
        f.facility_name,
        f.member_id,
        f.member_name,
        f.membership_class,
        f.country,
        f.country_name,
        f.region,
        f.activities,
        f.standard,
        f.standard_version,
        f.certification_type,
        f.issued_on,
        f.expires_on,
        case
            when f.status in ('withdrawn', 'suspended') and f.status_changed_on <= $end_on::date
                then f.status_changed_on
        end as status_changed_on,
        cert_status_on(
            f.issued_on, f.expires_on, f.status, f.status_changed_on, f.certification_type, $start_on::date
        ) as status_at_start,
        cert_status_on(
            f.issued_on, f.expires_on, f.status, f.status_changed_on, f.certification_type, $end_on::date
        ) as status_at_end,
        p.previous_certification_id,
        p.previous_certification_type,
        f.register_order,
    from changed_facts as f
    inner join previous as p on p.certification_id = f.certification_id
)

select * from final
order by register_order
