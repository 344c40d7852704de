{#
    Referral sessions (utm_medium = var('utm_medium')) per month and the
    employee whose utm_code equals utm_content (case-insensitive), for
    employees with >= 1 such session in the month. Consent masking as in
    kpi_top_contributors_monthly: a consenting employee is named; all
    non-consenting employees of the month are added up into one row with
    employee_id 'anonymous' and display_name null (so month + employee_id
    stays a key). Sessions whose utm_content matches no employee are not here
    (they count in kpi_referrals_monthly).
#}
with

sessions as (

    select * from {{ ref('int_web_sessions') }}
    where is_referral
        and employee_id is not null
        and month in (select m.month from {{ ref('int_months') }} as m)

),

employees as (

    select * from {{ ref('int_employees') }}

),

masked as (

    select
        sessions.month,
        case when employees.consent_public then employees.employee_id else 'anonymous' end as employee_id,
        case when employees.consent_public then employees.display_name end as display_name,
        case when employees.consent_public then employees.department end as department,
        employees.consent_public as is_named,
        sessions.conversions
    from sessions
    inner join employees
        on sessions.employee_id = employees.employee_id

),

final as (

    select
        cast(month as date) as month,
        cast(employee_id as text) as employee_id,
        cast(display_name as text) as display_name,
        cast(count(*) as bigint) as sessions,
        cast(sum(conversions) as bigint) as conversions,
        -- extras
        cast(department as text) as department,
        cast(is_named as boolean) as is_named
    from masked
    group by month, employee_id, display_name, department, is_named

)

select * from final
