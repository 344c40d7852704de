{#
    One row per employee (roster as of the report date) and reporting month,
    with the programme status of the month and the employee's programme posts
    created in it (credited counters at the latest snapshot).
    - invited: invited_at <= period end, and not left before the month start;
    - registered: invited and registered_at <= period end;
    - active: registered with >= 1 programme post created in the month
      (self-reported posts will add here when that source arrives);
    - last_programme_post_date / days_since_last_post: the latest programme
      post created on or before the period end (month end, or the report date
      for the current month), in the programme time zone.
#}
with

months as (

    select * from {{ ref('int_months') }}

),

employees as (

    select * from {{ ref('int_employees') }}

),

programme_posts as (

    select
        posts.employee_id,
        posts.created_month,
        posts.created_date,
        posts.is_pure_reshare,
        metrics.likes,
        metrics.comments,
        metrics.shares,
        metrics.impressions,
        metrics.interactions
    from {{ ref('int_posts_classified') }} as posts
    left join {{ ref('int_post_metrics_latest') }} as metrics
        on posts.platform = metrics.platform
        and posts.post_id = metrics.post_id
    where posts.is_programme_post

),

monthly as (

    select
        employee_id,
        created_month as month,
        count(*) as programme_posts,
        count(*) filter (where is_pure_reshare) as pure_reshares,
        coalesce(sum(likes), 0) as likes,
        coalesce(sum(comments), 0) as comments,
        coalesce(sum(shares), 0) as shares_received,
        coalesce(sum(interactions), 0) as interactions
    from programme_posts
    group by employee_id, created_month

),

last_post as (

    select
        months.month,
        programme_posts.employee_id,
        max(programme_posts.created_date) as last_programme_post_date
    from months
    inner join programme_posts
        on months.period_end >= programme_posts.created_date
    group by months.month, programme_posts.employee_id

),

flags as (

    select
        months.month,
        months.period_end,
        employees.employee_id,
        employees.department,
        employees.consent_public,
        employees.display_name,
        coalesce(
            employees.invited_at <= months.period_end
            and (employees.left_at is null or employees.left_at >= months.month),
            false
        ) as is_invited,
        employees.registered_at <= months.period_end as registered_by_period_end
    from months
    cross join employees

),

final as (

    select
        flags.month,
        flags.period_end,
        flags.employee_id,
        flags.department,
        flags.consent_public,
        flags.display_name,
        flags.is_invited,
        flags.is_invited and coalesce(flags.registered_by_period_end, false) as is_registered,
        flags.is_invited
        and coalesce(flags.registered_by_period_end, false)
        and coalesce(monthly.programme_posts, 0) > 0 as is_active,
        case
            when not flags.is_invited then null
            when not coalesce(flags.registered_by_period_end, false) then 'invited'
            when coalesce(monthly.programme_posts, 0) > 0 then 'active'
            else 'registered_dormant'
        end as status,
        coalesce(monthly.programme_posts, 0) as programme_posts,
        coalesce(monthly.pure_reshares, 0) as pure_reshares,
        coalesce(monthly.likes, 0) as likes,
        coalesce(monthly.comments, 0) as comments,
        coalesce(monthly.shares_received, 0) as shares_received,
        coalesce(monthly.interactions, 0) as interactions,
        last_post.last_programme_post_date,
        flags.period_end - last_post.last_programme_post_date as days_since_last_post
    from flags
    left join monthly
        on flags.employee_id = monthly.employee_id
        and flags.month = monthly.month
    left join last_post
        on flags.employee_id = last_post.employee_id
        and flags.month = last_post.month

)

select * from final
