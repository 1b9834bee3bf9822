-- The audits of one certification, oldest first, with the firm that carried each out.
with

audits as (
    select * from audits
),

auditing_firms as (
    select * from auditing_firms
),

final as (
    select
        a.audit_id,
        a.audit_type,
        a.audited_on,
        a.auditing_firm_id,
        f.name as auditing_firm_name,
    from audits as a
    left join auditing_firms as f on f.auditing_firm_id = a.auditing_firm_id
    where a.certification_id = $certification_id
)

select * from final
order by audited_on, audit_id
