-- The 5 x 5 likelihood x consequence matrix of the register's latest revisions: one row per
-- cell (all 25, empty ones with 0 risks), with the cell's rating and the ids of its risks.
-- Same filters as risks_revisions ($public_only, $categories, $severities).
with

risks as (
    select * from risks
),

latest as (
    select *
    from risks
    qualify row_number() over (partition by risk_id order by revision desc) = 1
),

chosen as (
    select *
    from latest
    where
        (not $public_only::boolean or is_public)
        and ($categories::varchar[] is null or list_contains($categories::varchar[], category))
        and ($severities::varchar[] is null or list_contains($severities::varchar[], severity))
),

cells as (
    select
        l.likelihood,
        c.consequence,
    from range(1, 6) as l(likelihood)
    cross join range(1, 6) as c(consequence)
),

final as (
    select
        cells.likelihood::integer as likelihood,
        cells.consequence::integer as consequence,
        (cells.likelihood * cells.consequence)::integer as rating,
        count(chosen.risk_id)::integer as risks,
        coalesce(list(chosen.risk_id order by chosen.risk_id) filter (where chosen.risk_id is not null), [])
            as risk_ids,
    from cells
    left join chosen
        on chosen.likelihood = cells.likelihood and chosen.consequence = cells.consequence
    group by cells.likelihood, cells.consequence
)

select * from final
order by likelihood desc, consequence
