-- Non-conformances (minor and major) found in PS audits, counted per audit and PS
-- principle, with the audit date and the facility, member and country facts the outcomes
-- filters read: about 4% of all findings, joined to their audit, certification, facility
-- and member once per snapshot instead of on every request.
with

audit_findings as (
    select * from audit_findings
),

audits as (
    select * from audits
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

nonconformances as (
    select
        af.audit_id,
        af.principle,
        af.rating,
        af.is_closed_at_next_audit,
        a.audited_on,
        c.standard_version,
        f.member_id,
        f.country,
        k.region,
        f.activities,
        m.membership_class,
    from audit_findings as af
    inner join audits as a on a.audit_id = af.audit_id
    inner join certifications as c on c.certification_id = a.certification_id
    inner join facilities as f on f.facility_id = c.facility_id
    inner join members as m on m.member_id = f.member_id
    left join countries as k on k.country = f.country
    where af.rating in ('minor_nc', 'major_nc')
        and c.standard = 'PS'
),

counted as (
    select
        audit_id,
        principle,
        audited_on,
        standard_version,
        member_id,
        country,
        region,
        activities,
        membership_class,
        count(*) as nonconformances,
        count(*) filter (where rating = 'major_nc') as major_nonconformances,
        count(*) filter (where is_closed_at_next_audit is not null) as followed_up,
        count(*) filter (where is_closed_at_next_audit) as closed_at_next_audit,
    from nonconformances
    group by all
),

-- an integer key per company: the closure query groups and lists companies by it
final as (
    select
        *,
        dense_rank() over (order by member_id)::integer as member_key,
    from counted
)

select * from final
order by audit_id, principle, member_id
