-- The certifications behind one country's figures on the certification map as of $as_of
-- (cert_country_aggregates.sql, same filters, no period): those valid (certified or
-- provisional) on that date in $country, in register order. Their facilities are the
-- country's "facilities with a valid certification"; per standard, they are its valid PS and
-- CoC certificates. asi_me.queries.certifications.country_records restricts them to the
-- viewer's own rows.
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
        $statuses::varchar[]
    )
),

final as (
    select *
    from shown
    where country = $country::varchar
        and status in ('certified', 'provisional')
)

-- the caller drops register_order
select * from final
order by register_order
