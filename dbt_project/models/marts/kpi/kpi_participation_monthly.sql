{#
    Every invited employee (int_employee_months.is_invited) each month with
    a status: invited (not registered by the period end), registered_dormant
    (registered, no programme post created in the month) or active.
    days_since_last_post: days from the latest programme post created on or
    before the period end to the period end - the month's last day, or the
    report date for the current month; null if the employee never posted.
    programme_posts includes counted self-reported posts (self_reported_posts;
    int_employee_months), so a self-reported post makes the employee active;
    days_since_last_post uses API posts only (self-reports have no date).
#}
with

employee_months as (

    select * from {{ ref('int_employee_months') }}
    where is_invited

),

final as (

    select
        cast(month as date) as month,
        cast(employee_id as text) as employee_id,
        cast(status as text) as status,
        cast(programme_posts as bigint) as programme_posts,
        cast(days_since_last_post as integer) as days_since_last_post,
        -- extras
        cast(department as text) as department,
        cast(display_name as text) as display_name,
        cast(last_programme_post_date as date) as last_programme_post_date,
        cast(period_end as date) as period_end,
        cast(self_reported_posts as bigint) as self_reported_posts
    from employee_months

)

select * from final
