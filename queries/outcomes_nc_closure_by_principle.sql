-- Non-conformances (minor and major) found in PS audits between $period_from and $as_of,
-- and the share closed (or downgraded) at the next audit, per PS principle. Only NCs whose
-- follow-up is known count in the share. n_companies and the NC count per company feed
-- the disclosure policy (the per-company map never leaves the query layer).
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

principles as (
    select unnest(range(1, 12)) as principle
),

nonconformances as (
    select
        af.principle,
        af.rating,
        af.is_closed_at_next_audit,
        f.member_id,
    from audit_findings as af
    inner join audits as a on a.audit_id = af.audit_id
    inner join certifications as c on c.certification_id = a.certification_id
    inner join facilities as f on f.facility_id = c.facility_id
    inner join members as m on m.member_id = f.member_id
    left join countries as k on k.country = f.country
    where af.rating in ('minor_nc', 'major_nc')
        and c.standard = 'PS'
        and a.audited_on <= $as_of::date
        and ($period_from::date is null or a.audited_on >= $period_from::date)
        and (len($countries::varchar[]) = 0 or list_contains($countries::varchar[], f.country))
        and (len($regions::varchar[]) = 0 or list_contains($regions::varchar[], k.region))
        and (len($activities::varchar[]) = 0 or list_has_any(f.activities, $activities::varchar[]))
        and (len($versions::varchar[]) = 0 or list_contains($versions::varchar[], c.standard_version))
        and (
            len($membership_classes::varchar[]) = 0
            or list_contains($membership_classes::varchar[], m.membership_class)
        )
),

by_principle as (
    select
        principle,
        count(*) as nonconformances,
        count(*) filter (where rating = 'major_nc') as major_nonconformances,
        count(*) filter (where is_closed_at_next_audit is not null) as followed_up,
        count(*) filter (where is_closed_at_next_audit) as closed_at_next_audit,
        count(distinct member_id) as n_companies,
        histogram(member_id) as nonconformances_by_company,
    from nonconformances
    group by principle
),

final as (
    select
        p.principle,
        coalesce(b.nonconformances, 0) as nonconformances,
        coalesce(b.major_nonconformances, 0) as major_nonconformances,
        coalesce(b.followed_up, 0) as followed_up,
        coalesce(b.closed_at_next_audit, 0) as closed_at_next_audit,
        b.closed_at_next_audit / nullif(b.followed_up, 0) as closed_share,
        coalesce(b.n_companies, 0) as n_companies,
        b.nonconformances_by_company,
    from principles as p
    left join by_principle as b on b.principle = p.principle
)

select * from final
order by principle
