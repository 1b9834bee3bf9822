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

-- read twice (markers and, when facilities are the markers, their names) but never stored:
-- a stored copy would hold every register column
shown as not materialized (
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

facility_marks as (
    select
        facility_id,
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
        -- two standards when they differ (a distinct count per facility would hold a set per facility)
        case when min(standard) <> max(standard) then 'both' else min(standard) end as standard_key,
        any_value(country) as country,
        any_value(facility_name) as facility_name,
    from shown
    where latitude is not null and longitude is not null
    group by facility_id
),

point_count as (
    select count(*) as n_points from facility_marks
),

-- names and certificate numbers only when the facilities themselves are the markers
facility_points as (
    select
        facility_id,
        any_value(member_id) as member_id,
        any_value(member_name) as member_name,
        any_value(country_name) as country_name,
        any_value(region) as region,
        count(*) as certificates,
        string_agg(certification_id, ';' order by certification_id) as certification_ids,
    from shown
    where latitude is not null and longitude is not null
        and (select n_points from point_count) <= $max_points
    group by facility_id
),

cell_sizes as (
    select unnest($cell_sizes::double[]) as cell_deg
    where (select n_points from point_count) > $max_points
),

cells_per_size as (
    select
        s.cell_deg,
        -- one number per cell (longitude indexes stay far below 10 million even for 0.1 degrees)
        count(distinct grid_index(p.latitude, s.cell_deg) * 10000000 + grid_index(p.longitude, s.cell_deg)) as n_cells,
    from cell_sizes as s
    cross join facility_marks as p
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
    from (
        -- the order pandas would sum a cell's coordinates in, so the mean is the same to the last bit
        select *, row_number() over (order by country, facility_name, facility_id) as point_order,
        from facility_marks
    ) as p
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

status_counts as (
    select
        lat_bin,
        lon_bin,
        status,
        count(*) as n,
        case status
            when 'certified' then 0
            when 'provisional' then 1
            when 'suspended' then 2
            when 'withdrawn' then 3
            when 'expired' then 4
            else 5
        end as status_rank,
    from binned
    group by lat_bin, lon_bin, status
),

standard_counts as (
    select lat_bin, lon_bin, standard_key, count(*) as n,
    from binned
    group by lat_bin, lon_bin, standard_key
),

-- the most frequent value; ties go to the better status and the alphabetically first standard key
dominant_status as (
    select lat_bin, lon_bin, arg_min(status, (-n, status_rank)) as status,
    from status_counts
    group by lat_bin, lon_bin
),

dominant_standard as (
    select lat_bin, lon_bin, arg_min(standard_key, (-n, standard_key)) as standard_key,
    from standard_counts
    group by lat_bin, lon_bin
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
    left join dominant_status as s on s.lat_bin = c.lat_bin and s.lon_bin = c.lon_bin
    left join dominant_standard as k on k.lat_bin = c.lat_bin and k.lon_bin = c.lon_bin
),

final as (
    select
        false as is_cell,
        m.facility_id,
        p.member_id,
        m.facility_name,
        p.member_name,
        m.country,
        p.country_name,
        p.region,
        m.latitude,
        m.longitude,
        m.status,
        m.standard_key,
        p.certificates,
        p.certification_ids,
        1::bigint as n_facilities,
        0.0::double as cell_deg,
        null::bigint as lat_bin,
        null::bigint as lon_bin,
    from facility_marks as m
    inner join facility_points as p on p.facility_id = m.facility_id
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
