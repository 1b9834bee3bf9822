-- Map markers as of $as_of: one row per facility holding a certification shown in the
-- register (same filters as cert_register.sql), with its best status on that date
-- (certified > provisional > suspended > withdrawn > expired), which standards it holds
-- (PS, CoC or both), and its certificate numbers.
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
    select
        facility_id,
        any_value(member_id) as member_id,
        any_value(facility_name) as facility_name,
        any_value(member_name) as member_name,
        any_value(country) as country,
        any_value(country_name) as country_name,
        any_value(region) as region,
        any_value(latitude) as latitude,
        any_value(longitude) as longitude,
        arg_min(
            status,
            case status
                when 'certified' then 0
                when 'provisional' then 1
                when 'suspended' then 2
                when 'withdrawn' then 3
                else 4
            end
        ) as status,
        case when count(distinct standard) > 1 then 'both' else any_value(standard) end as standard_key,
        count(*) as certificates,
        string_agg(certification_id, ';' order by certification_id) as certification_ids,
    from shown
    group by facility_id
)

select * from final
order by country, facility_name, facility_id
