-- How many certifications and distinct countries the public register as of $as_of holds
-- under the filter bar (cert_register.sql, same filters).
with

shown as (
    select *
    from cert_shown(
        $as_of::date,
        $countries::varchar[],
        $regions::varchar[],
        $activities::varchar[],
        $standards::varchar[],
        $versions::varchar[],
        $membership_classes::varchar[],
        $statuses::varchar[],
        p_issued_from := $period_from::date,
        p_issued_to := $period_to::date
    )
),

final as (
    select
        count(*) as certifications,
        count(distinct country) as countries,
    from shown
)

select * from final
