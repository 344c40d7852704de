{#
    Departments each month (every department of the current roster): active
    advocates, their programme posts and credited interactions, ranked by
    interactions desc, programme_posts desc, active_advocates desc, then
    department name (ranks are unique). active_advocates and programme_posts
    include self-reported posts; interactions are the APIs' only
    (self-reported engagement in self_reported_interactions).
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
        sum(shares_received) as shares_received,
        sum(self_reported_posts) as self_reported_posts,
        sum(self_reported_interactions) as self_reported_interactions
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
        cast(shares_received as bigint) as shares_received,
        cast(self_reported_posts as bigint) as self_reported_posts,
        cast(self_reported_interactions as bigint) as self_reported_interactions
    from by_department

)

select * from final
