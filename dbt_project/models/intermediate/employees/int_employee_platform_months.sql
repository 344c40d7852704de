{#
    One row per employee, platform and month in which the employee made at
    least one programme post on that platform (an active advocate there), with
    those posts' counts, credited counters and the advocate's audience for the
    month (int_advocate_audience_monthly; null when the platform never gave one).
#}
with

months as (

    select month from {{ ref('int_months') }}

),

programme_posts as (

    select
        posts.platform,
        posts.employee_id,
        posts.created_month as month,
        metrics.impressions,
        metrics.interactions
    from {{ ref('int_posts_classified') }} as posts
    inner join months
        on posts.created_month = months.month
    left join {{ ref('int_post_metrics_latest') }} as metrics
        on posts.platform = metrics.platform
        and posts.post_id = metrics.post_id
    where posts.is_programme_post

),

aggregated as (

    select
        month,
        platform,
        employee_id,
        count(*) as programme_posts,
        count(impressions) as posts_with_impressions,
        sum(impressions) as impressions,
        coalesce(sum(interactions), 0) as interactions
    from programme_posts
    group by month, platform, employee_id

),

final as (

    select
        aggregated.month,
        aggregated.platform,
        aggregated.employee_id,
        aggregated.programme_posts,
        aggregated.posts_with_impressions,
        aggregated.impressions,
        aggregated.interactions,
        audience.audience,
        audience.audience_source
    from aggregated
    left join {{ ref('int_advocate_audience_monthly') }} as audience
        on aggregated.month = audience.month
        and aggregated.platform = audience.platform
        and aggregated.employee_id = audience.employee_id

)

select * from final
