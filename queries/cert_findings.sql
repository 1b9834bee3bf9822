-- Findings of every audit of one certification (not public: owner and secretariat only).
with

audit_findings as (
    select * from audit_findings
),

audits as (
    select * from audits
),

final as (
    select
        a.audit_id,
        a.audited_on,
        af.principle,
        af.criterion,
        af.rating,
        af.is_closed_at_next_audit,
    from audit_findings as af
    inner join audits as a on a.audit_id = af.audit_id
    where a.certification_id = $certification_id
)

select * from final
order by audited_on, audit_id, principle, criterion
