-- Map markers as of $as_of: one row per facility holding a certification shown in the
-- register (same filters as cert_register.sql) and having coordinates, with its best
-- status on that date (certified > provisional > suspended > withdrawn > expired), which
-- standards it holds (PS, CoC or both), and its certificate numbers. When there are more
-- than $max_points such facilities, one row per grid cell instead, for the smallest cell
-- size in $cell_sizes (degrees) giving at most $max_points cells (the largest size when
-- none does): the cell's mean position, its number of facilities, and its dominant status
-- and standard (most facilities; ties go to the better status and to the first standard
-- key in alphabetical order). is_cell says which kind a row is.
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

facility_points as (
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
        row_number() over (order by any_value(country), any_value(facility_name), facility_id) as point_order,
    from shown
    where latitude is not null and longitude is not null
    group by facility_id
),

point_count as (
    select count(*) as n_points from facility_points
),

cell_sizes as (
    select unnest($cell_sizes::double[]) as cell_deg
    where (select n_points from point_count) > $max_points
),

cells_per_size as (
    select
        s.cell_deg,
        count(distinct (grid_index(p.latitude, s.cell_deg), grid_index(p.longitude, s.cell_deg))) as n_cells,
    from cell_sizes as s
    cross join facility_points as p
    group by s.cell_deg
),

chosen_size as (
    select coalesce(min(cell_deg) filter (where n_cells <= $max_points), max(cell_deg)) as cell_deg
    from cells_per_size
    having count(*) > 0
),

binned as (
    select
        p.latitude,
        p.longitude,
        p.status,
        p.standard_key,
        p.point_order,
        c.cell_deg,
        grid_index(p.latitude, c.cell_deg) as lat_bin,
        grid_index(p.longitude, c.cell_deg) as lon_bin,
    from facility_points as p
    cross join chosen_size as c
),

cell_positions as (
    select
        lat_bin,
        lon_bin,
        any_value(cell_deg) as cell_deg,
        fsum(latitude order by point_order) / count(*) as latitude,
        fsum(longitude order by point_order) / count(*) as longitude,
        count(*) as n_facilities,
    from binned
    group by lat_bin, lon_bin
),

status_votes as (
    select
        lat_bin,
        lon_bin,
        status,
        row_number() over (
            partition by lat_bin, lon_bin
            order by
                count(*) desc,
                case status
                    when 'certified' then 0
                    when 'provisional' then 1
                    when 'suspended' then 2
                    when 'withdrawn' then 3
                    when 'expired' then 4
                end asc nulls last
        ) as place,
    from binned
    group by lat_bin, lon_bin, status
),

standard_votes as (
    select
        lat_bin,
        lon_bin,
        standard_key,
        row_number() over (partition by lat_bin, lon_bin order by count(*) desc, standard_key asc) as place,
    from binned
    group by lat_bin, lon_bin, standard_key
),

cells as (
    select
        c.latitude,
        c.longitude,
        c.n_facilities,
        s.status,
        k.standard_key,
        c.cell_deg,
        c.lat_bin,
        c.lon_bin,
    from cell_positions as c
    left join status_votes as s on s.lat_bin = c.lat_bin and s.lon_bin = c.lon_bin and s.place = 1
    left join standard_votes as k on k.lat_bin = c.lat_bin and k.lon_bin = c.lon_bin and k.place = 1
),

final as (
    select
        false as is_cell,
        facility_id,
        member_id,
        facility_name,
        member_name,
        country,
        country_name,
        region,
        latitude,
        longitude,
        status,
        standard_key,
        certificates,
        certification_ids,
        1::bigint as n_facilities,
        0.0::double as cell_deg,
        null::bigint as lat_bin,
        null::bigint as lon_bin,
    from facility_points
    where (select n_points from point_count) <= $max_points
    union all
    select
        true as is_cell,
        null as facility_id,
        null as member_id,
        null as facility_name,
        null as member_name,
        null as country,
        null as country_name,
        null as region,
        latitude,
        longitude,
        status,
        standard_key,
        null as certificates,
        null as certification_ids,
        n_facilities,
        cell_deg,
        lat_bin,
        lon_bin,
    from cells
)

select * from final
order by is_cell, lat_bin, lon_bin, country, facility_name, facility_id
