{#
    One row per employee ever seen in the roster up to the report date
    (int_employees: an employee missing from the latest copy is closed,
    never erased). display_name = full_name only when consent_public; no
    e-mail and no platform handles in marts.
#}
with

employees as (

    select * from {{ ref('int_employees') }}

),

final as (

    select
        cast(employee_id as text) as employee_id,
        cast(department as text) as department,
        cast(country as text) as country,
        cast(invited_at as date) as invited_at,
        cast(registered_at as date) as registered_at,
        cast(left_at as date) as left_at,
        cast(consent_public as boolean) as consent_public,
        cast(display_name as text) as display_name,
        cast(hired_at as date) as hired_at,
        cast(roster_day as date) as roster_day
    from employees

)

select * from final
