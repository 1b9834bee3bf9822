-- The one definition of a certification's status on a date, as a scalar macro that
-- every cert_* and outcomes_* query reuses. Null while not yet issued on that date.
create macro if not exists cert_status_on(
    issued_on, expires_on, status, status_changed_on, certification_type, on_date
) as
    case
        when issued_on > on_date then null
        when status in ('withdrawn', 'suspended') and status_changed_on <= on_date then status
        when expires_on <= on_date then 'expired'
        when certification_type = 'provisional' then 'provisional'
        else 'certified'
    end
