-- Every revision of every risk of the register, oldest first within a risk, each flagged
-- is_latest on its risk's newest revision; optionally only risks marked public
-- ($public_only) and only the $categories / $severities given (null: all). A risk's
-- category and severity filters judge its latest revision, so a risk's history is kept whole.
with

risks as (
    select * from risks
),

ranked as (
    select
        r.*,
        r.likelihood * r.consequence as rating,
        row_number() over (partition by r.risk_id order by r.revision desc) = 1 as is_latest,
    from risks as r
),

latest as (
    select
        risk_id,
        category as latest_category,
        severity as latest_severity,
        is_public as latest_is_public,
    from ranked
    where is_latest
),

final as (
    select
        r.risk_id,
        r.revision,
        r.revised_on,
        r.category,
        r.title,
        r.description,
        r.likelihood,
        r.consequence,
        r.rating,
        r.severity,
        r.controls,
        r.owner,
        r.review_on,
        r.is_public,
        r.is_latest,
    from ranked as r
    inner join latest as l on l.risk_id = r.risk_id
    where
        (not $public_only::boolean or (l.latest_is_public and r.is_public))
        and ($categories::varchar[] is null or list_contains($categories::varchar[], l.latest_category))
        and ($severities::varchar[] is null or list_contains($severities::varchar[], l.latest_severity))
)

select * from final
order by risk_id, revision
