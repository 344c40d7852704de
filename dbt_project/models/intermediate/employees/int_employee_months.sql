{#
    One row per employee (roster as of the report date) and reporting month,
    with the programme status of the month and the employee's programme posts
    created in it (credited counters at the latest snapshot).
    - invited: invited_at <= period end, and not left before the month start;
    - registered: invited and registered_at <= period end;
    - active: registered with >= 1 programme post created in the month, a
      self-reported post counting too (docs/metrics.md);
    - programme_posts = API programme posts (api_programme_posts) + counted
      self-reported posts (self_reported_posts: int_self_reported_activity
      rows not superseded by API posts on the same platform + month, and only
      while the employee is registered); likes / comments / shares_received /
      interactions stay the API's credited counters, the self-reported ones
      are separate self_reported_* columns (never mixed, never double-counted);
    - last_programme_post_date / days_since_last_post: the latest API
      programme post created on or before the period end (self-reports carry
      no date) (month end, or the report date
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

self_reported as (

    select
        employee_id,
        month,
        sum(posts) as posts,
        sum(likes) as likes,
        sum(comments) as comments,
        sum(shares) as shares,
        sum(interactions) as interactions
    from {{ ref('int_self_reported_activity') }}
    where is_counted
    group by employee_id, month

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

counted as (

    select
        flags.*,
        flags.is_invited and coalesce(flags.registered_by_period_end, false) as is_registered_flag,
        coalesce(monthly.programme_posts, 0) as api_programme_posts,
        case
            when flags.is_invited and coalesce(flags.registered_by_period_end, false)
                then coalesce(self_reported.posts, 0)
            else 0
        end as self_reported_posts,
        case
            when flags.is_invited and coalesce(flags.registered_by_period_end, false)
                then coalesce(self_reported.likes, 0)
            else 0
        end as self_reported_likes,
        case
            when flags.is_invited and coalesce(flags.registered_by_period_end, false)
                then coalesce(self_reported.comments, 0)
            else 0
        end as self_reported_comments,
        case
            when flags.is_invited and coalesce(flags.registered_by_period_end, false)
                then coalesce(self_reported.shares, 0)
            else 0
        end as self_reported_shares,
        case
            when flags.is_invited and coalesce(flags.registered_by_period_end, false)
                then coalesce(self_reported.interactions, 0)
            else 0
        end as self_reported_interactions,
        coalesce(monthly.pure_reshares, 0) as pure_reshares,
        coalesce(monthly.likes, 0) as likes,
        coalesce(monthly.comments, 0) as comments,
        coalesce(monthly.shares_received, 0) as shares_received,
        coalesce(monthly.interactions, 0) as interactions
    from flags
    left join monthly
        on flags.employee_id = monthly.employee_id
        and flags.month = monthly.month
    left join self_reported
        on flags.employee_id = self_reported.employee_id
        and flags.month = self_reported.month

),

final as (

    select
        counted.month,
        counted.period_end,
        counted.employee_id,
        counted.department,
        counted.consent_public,
        counted.display_name,
        counted.is_invited,
        counted.is_registered_flag as is_registered,
        counted.is_registered_flag
        and counted.api_programme_posts + counted.self_reported_posts > 0 as is_active,
        case
            when not counted.is_invited then null
            when not counted.is_registered_flag then 'invited'
            when counted.api_programme_posts + counted.self_reported_posts > 0 then 'active'
            else 'registered_dormant'
        end as status,
        counted.api_programme_posts + counted.self_reported_posts as programme_posts,
        counted.api_programme_posts,
        counted.self_reported_posts,
        counted.pure_reshares,
        counted.likes,
        counted.comments,
        counted.shares_received,
        counted.interactions,
        counted.self_reported_likes,
        counted.self_reported_comments,
        counted.self_reported_shares,
        counted.self_reported_interactions,
        last_post.last_programme_post_date,
        counted.period_end - last_post.last_programme_post_date as days_since_last_post
    from counted
    left join last_post
        on counted.employee_id = last_post.employee_id
        and counted.month = last_post.month

)

select * from final
