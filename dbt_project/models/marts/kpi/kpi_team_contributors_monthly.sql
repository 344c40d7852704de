{#
    Departments each month (every department of the current roster): active
    advocates, their programme posts and credited interactions, ranked by
    interactions desc, programme_posts desc, active_advocates desc, then
    department name (ranks are unique).
#}
with

employee_months as (

    select * from {{ ref('int_employee_months') }}

),

by_department as (

    select
        month,
        department,
        count(*) filter (where is_active) as active_advocates,
        count(*) filter (where is_invited) as invited,
        count(*) filter (where is_registered) as registered,
        sum(programme_posts) as programme_posts,
        sum(interactions) as interactions,
        sum(shares_received) as shares_received
    from employee_months
    group by month, department

),

final as (

    select
        cast(month as date) as month,
        cast(department as text) as department,
        cast(active_advocates as bigint) as active_advocates,
        cast(programme_posts as bigint) as programme_posts,
        cast(interactions as bigint) as interactions,
        cast(row_number() over (
            partition by month
            order by interactions desc, programme_posts desc, active_advocates desc, department asc
        ) as bigint) as rank,
        -- extras
        cast(invited as bigint) as invited,
        cast(registered as bigint) as registered,
        cast(shares_received as bigint) as shares_received
    from by_department

)

select * from final
