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
create macro if not exists cert_rows() as table
    select
        c.certification_id,
        c.facility_id,
        f.name as facility_name,
        f.member_id,
        m.name as member_name,
        m.membership_class,
        f.country,
        k.country_name,
        k.region,
        f.latitude,
        f.longitude,
        f.activities,
        f.workers,
        c.standard,
        c.standard_version,
        c.certification_type,
        c.status,
        c.issued_on,
        c.expires_on,
        c.status_changed_on,
        c.scope,
        c.auditing_firm_id,
        a.name as auditing_firm_name,
        c.external_certifications,
    from certifications as c
    inner join facilities as f on f.facility_id = c.facility_id
    inner join members as m on m.member_id = f.member_id
    left join countries as k on k.country = f.country
    left join auditing_firms as a on a.auditing_firm_id = c.auditing_firm_id;

-- The certifications the public register shows on p_as_of under the filter bar: issued by
-- then, with their status on that date (a withdrawal or suspension dated later is not yet
-- visible), within every list filter (an empty list means all).
create macro if not exists cert_shown(
    p_as_of, p_countries, p_regions, p_activities, p_standards, p_versions, p_membership_classes, p_statuses
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
        from cert_rows() as r
        where r.issued_on <= p_as_of
            and (len(p_countries) = 0 or list_contains(p_countries, r.country))
            and (len(p_regions) = 0 or list_contains(p_regions, r.region))
            and (len(p_activities) = 0 or list_has_any(r.activities, p_activities))
            and (len(p_standards) = 0 or list_contains(p_standards, r.standard))
            and (len(p_versions) = 0 or list_contains(p_versions, r.standard_version))
            and (len(p_membership_classes) = 0 or list_contains(p_membership_classes, r.membership_class))
    )
    where len(p_statuses) = 0 or list_contains(p_statuses, status)
