-- Non-conformances (minor and major) found in PS audits between $period_from and $as_of,
-- and the share closed (or downgraded) at the next audit, per PS principle. Only NCs whose
-- follow-up is known count in the share. n_companies and the NC count per company feed
-- the disclosure policy (company_keys, an integer per company, with company_nonconformances:
-- two lists of numbers are much cheaper to fetch than a map; they never leave the query
-- layer). The findings come pre-joined and counted per audit and principle (the derived
-- ps_nonconformances).
with

ps_nonconformances as (
    select * from ps_nonconformances
),

principles as (
    select unnest(range(1, 12)) as principle
),

nonconformances as (
    select n.*
    from ps_nonconformances as n
    where n.audited_on <= $as_of::date
        and ($period_from::date is null or n.audited_on >= $period_from::date)
        and (len($countries::varchar[]) = 0 or list_contains($countries::varchar[], n.country))
        and (len($regions::varchar[]) = 0 or list_contains($regions::varchar[], n.region))
        and (len($activities::varchar[]) = 0 or list_has_any(n.activities, $activities::varchar[]))
        and (len($versions::varchar[]) = 0 or list_contains($versions::varchar[], n.standard_version))
        and (
            len($membership_classes::varchar[]) = 0
            or list_contains($membership_classes::varchar[], n.membership_class)
        )
),

by_company as (
    select
        principle,
        member_key,
        sum(nonconformances) as nonconformances,
        sum(major_nonconformances) as major_nonconformances,
        sum(followed_up) as followed_up,
        sum(closed_at_next_audit) as closed_at_next_audit,
    from nonconformances
    group by principle, member_key
),

by_principle as (
    select
        principle,
        sum(nonconformances)::bigint as nonconformances,
        sum(major_nonconformances)::bigint as major_nonconformances,
        sum(followed_up)::bigint as followed_up,
        sum(closed_at_next_audit)::bigint as closed_at_next_audit,
        count(member_key) as n_companies,
        list(member_key order by member_key) as company_keys,
        list(nonconformances::bigint order by member_key) as company_nonconformances,
    from by_company
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
        coalesce(b.company_keys, []::integer[]) as company_keys,
        coalesce(b.company_nonconformances, []::bigint[]) as company_nonconformances,
    from principles as p
    left join by_principle as b on b.principle = p.principle
)

select * from final
order by principle
