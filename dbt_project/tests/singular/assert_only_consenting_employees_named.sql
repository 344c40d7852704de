-- No mart names an employee without consent: every display_name must be the
-- dim_employee name of an employee whose consent_public is true (so an
-- 'anonymous' top-contributor row with a name fails too).
with

named as (

    select
        'kpi_top_contributors_monthly' as mart,
        employee_id,
        display_name
    from {{ ref('kpi_top_contributors_monthly') }}
    where display_name is not null

    union all

    select
        'kpi_participation_monthly' as mart,
        employee_id,
        display_name
    from {{ ref('kpi_participation_monthly') }}
    where display_name is not null

)

select named.*
from named
left join {{ ref('dim_employee') }} as employees
    on named.employee_id = employees.employee_id
where named.display_name is not null
    and (employees.consent_public is not true or named.display_name <> employees.display_name)
