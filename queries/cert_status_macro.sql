-- The one definition of a certification's status on a date, as a scalar macro that
-- every cert_* and outcomes_* query reuses (null while not yet issued on that date), and
-- the certification base shared by the register, map and detail queries, as table macros.
-- Created once per store by asi_me.certifications.ensure_macros.
create macro if not exists cert_status_on(
    issued_on, expires_on, status, status_changed_on, certification_type, on_date
) as
    case
        when issued_on > on_date then null
        when status in ('withdrawn', 'suspended') and status_changed_on <= on_date then status
        when expires_on <= on_date then 'expired'
        when certification_type = 'provisional' then 'provisional'
        else 'certified'
    end;

-- Every certification with its facility, member, country and auditing firm: the one
-- base that the register, map and detail queries read (raw status columns, workers).
-- The joins are done once per snapshot (queries/derived_certification_facts.sql).
create macro if not exists cert_rows() as table
    select * from certification_facts;

-- The certifications the public register shows on p_as_of under the filter bar: issued by
-- then, with their status on that date (a withdrawal or suspension dated later is not yet
-- visible), within every list filter (an empty list means all). The register passes the
-- filter bar's period as p_issued_from / p_issued_to (both inclusive; null: open) and then
-- lists only the certifications issued in it: exactly those that entered the "issued" count
-- of the dashboard's change breakdown over that window (asi_me/queries/changes.py). The map
-- layers leave them null and show every certification issued by p_as_of.
create macro if not exists cert_shown(
    p_as_of, p_countries, p_regions, p_activities, p_standards, p_versions, p_membership_classes, p_statuses,
    p_issued_from := null, p_issued_to := null
) as table
    select * from (
        select
            r.certification_id,
            r.facility_id,
            r.facility_name,
            r.member_id,
            r.member_name,
            r.membership_class,
            r.country,
            r.country_name,
            r.region,
            r.latitude,
            r.longitude,
            r.activities,
            r.standard,
            r.standard_version,
            r.certification_type,
            cert_status_on(
                r.issued_on, r.expires_on, r.status, r.status_changed_on, r.certification_type, p_as_of
            ) as status,
            r.issued_on,
            r.expires_on,
            case
                when r.status in ('withdrawn', 'suspended') and r.status_changed_on <= p_as_of
                    then r.status_changed_on
            end as status_changed_on,
            r.scope,
            r.auditing_firm_id,
            r.auditing_firm_name,
            r.external_certifications,
            r.register_order,
        from cert_rows() as r
        where r.issued_on <= p_as_of
            and (p_issued_from is null or r.issued_on >= p_issued_from)
            and (p_issued_to is null or r.issued_on <= p_issued_to)
            and (len(p_countries) = 0 or list_contains(p_countries, r.country))
            and (len(p_regions) = 0 or list_contains(p_regions, r.region))
            and (len(p_activities) = 0 or list_has_any(r.activities, p_activities))
            and (len(p_standards) = 0 or list_contains(p_standards, r.standard))
            and (len(p_versions) = 0 or list_contains(p_versions, r.standard_version))
            and (len(p_membership_classes) = 0 or list_contains(p_membership_classes, r.membership_class))
    )
    where len(p_statuses) = 0 or list_contains(p_statuses, status);

-- The grid cell index of a coordinate for cells of cell_deg degrees, exactly as Python's
-- `value // cell_deg` computes it on floats (numpy's divmod: fmod, then round the quotient
-- to the nearest whole number when floor() is off by one). floor(value / cell_deg) differs
-- for values such as 1.0 // 0.1 (9, not 10), which would move facilities between cells.
create macro if not exists grid_quotient_floor(q) as
    floor(q) + case when q - floor(q) > 0.5 then 1 else 0 end;

create macro if not exists grid_index(value, cell_deg) as
    grid_quotient_floor(
        (value - value % cell_deg) / cell_deg - case when value % cell_deg < 0 then 1 else 0 end
    )::bigint;
