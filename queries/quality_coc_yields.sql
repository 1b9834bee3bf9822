-- CoC report lines with an implausible yield (output per tonne of input): above
-- $max_ratio times the stage's yield factor, or more than $threshold modified
-- z-scores (median / 1.4826 x MAD) from the yields of the same stage and input
-- material across all lines and years (the coc_line_checks derived table holds each
-- line's yield with that median and MAD).
with

coc_line_checks as (
    select * from coc_line_checks
),

countries as (
    select * from countries
),

yield_factors as (
    select
        unnest($factor_stages::varchar[]) as stage,
        unnest($factor_materials::varchar[]) as material,
        unnest($factors::double[]) as yield_factor,
),

yields as (
    select
        l.*,
        coalesce(y.yield_factor, 1.0) as yield_factor,
    from coc_line_checks as l
    left join yield_factors as y on y.stage = l.stage and y.material = l.material
    left join countries as k on k.country = l.country
    where l.input_t > 0
        and (len($countries::varchar[]) = 0 or list_contains($countries::varchar[], l.country))
        and (len($regions::varchar[]) = 0 or list_contains($regions::varchar[], k.region))
        and (
            len($membership_classes::varchar[]) = 0
            or list_contains($membership_classes::varchar[], l.membership_class)
        )
        and ($member_id::varchar is null or l.member_id = $member_id::varchar)
),

scored as (
    select
        l.reporting_year,
        l.stage,
        l.material,
        l.facility_id,
        l.facility_name,
        l.member_id,
        l.member_name,
        l.input_t,
        l.output_t,
        l.yield_ratio,
        l.yield_factor,
        -- Reported yields cluster tightly, so the MAD is floored at 5 % of the factor:
        -- a yield is only odd when it is far off in physical terms too.
        (l.yield_ratio - l.median_ratio) / (1.4826 * greatest(l.mad_ratio, 0.05 * l.yield_factor)) as robust_z,
    from yields as l
)

select * from scored
where yield_ratio > $max_ratio::double * yield_factor or abs(robust_z) > $threshold::double
order by reporting_year, stage, material, facility_id
