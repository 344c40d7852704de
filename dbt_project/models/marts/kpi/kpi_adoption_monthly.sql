{#
    Adoption and activation per month and department ('ALL' = whole company).
    invited / registered / active per int_employee_months; departments are
    the employees' current departments (roster as of the report date).
    adoption_rate = registered / invited, activation_rate = active /
    registered, rounded to 4 decimals; null where the denominator is 0.
#}
with

months as (

    select month from {{ ref('int_months') }}

),

employee_months as (

    select * from {{ ref('int_employee_months') }}

),

by_department as (

    select
        month,
        department,
        count(*) filter (where is_invited) as invited,
        count(*) filter (where is_registered) as registered,
        count(*) filter (where is_active) as active
    from employee_months
    group by month, department

),

whole_company as (

    select
        months.month,
        'ALL' as department,
        count(*) filter (where employee_months.is_invited) as invited,
        count(*) filter (where employee_months.is_registered) as registered,
        count(*) filter (where employee_months.is_active) as active
    from months
    left join employee_months
        on months.month = employee_months.month
    group by months.month

),

unioned as (

    select * from by_department
    union all
    select * from whole_company

),

final as (

    select
        cast(month as date) as month,
        cast(department as text) as department,
        cast(invited as bigint) as invited,
        cast(registered as bigint) as registered,
        cast(active as bigint) as active,
        cast(round({{ safe_divide('registered', 'invited') }}, 4) as numeric(12, 4)) as adoption_rate,
        cast(round({{ safe_divide('active', 'registered') }}, 4) as numeric(12, 4)) as activation_rate
    from unioned

)

select * from final
