{#
    Engagement of programme posts per month (created in it) and enabled
    platform, plus 'ALL'.
    - programme_posts counts pure reshares (activity), whose interactions are
      0 (credited to the original post);
    - engagement_rate = interactions / impressions when every programme post
      of the group has impressions (engagement_rate_basis 'impressions'),
      else interactions / potential_reach of kpi_reach_monthly (basis
      'audience'); null (basis null) for a group without programme posts or a
      zero denominator; 4 decimals;
    - personalised_uplift = mean interactions of personalised programme posts
      / mean interactions of programme posts neither personalised nor pure
      reshares (verbatim suggested copy) - 1; null when either group is empty
      or the second mean is 0; 4 decimals.
#}
with

months as (

    select month from {{ ref('int_months') }}

),

groups as (

    select p.platform from {{ enabled_platforms_values() }} as p (platform)
    union all
    select 'ALL'

),

programme_posts as (

    select
        platform,
        created_month as month,
        interactions,
        comments,
        impressions,
        is_personalised,
        is_pure_reshare
    from {{ ref('fct_posts') }}
    where is_programme_post

),

aggregated as (

    select
        month,
        coalesce(platform, 'ALL') as platform,
        count(*) as programme_posts,
        count(impressions) as posts_with_impressions,
        coalesce(sum(interactions), 0) as interactions,
        coalesce(sum(comments), 0) as comments,
        sum(impressions) as impressions,
        avg(interactions) filter (where is_personalised) as mean_personalised,
        avg(interactions) filter (where not is_personalised and not is_pure_reshare)
            as mean_not_personalised
    from programme_posts
    group by grouping sets ((month, platform), (month))

),

reach as (

    select
        month,
        platform,
        potential_reach
    from {{ ref('kpi_reach_monthly') }}

),

based as (

    select
        months.month,
        groups.platform,
        coalesce(aggregated.programme_posts, 0) as programme_posts,
        coalesce(aggregated.interactions, 0) as interactions,
        coalesce(aggregated.comments, 0) as comments,
        aggregated.impressions,
        reach.potential_reach,
        aggregated.mean_personalised,
        aggregated.mean_not_personalised,
        case
            when coalesce(aggregated.programme_posts, 0) = 0 then null
            when aggregated.posts_with_impressions = aggregated.programme_posts then 'impressions'
            else 'audience'
        end as engagement_rate_basis
    from months
    cross join groups
    left join aggregated
        on months.month = aggregated.month
        and groups.platform = aggregated.platform
    left join reach
        on months.month = reach.month
        and groups.platform = reach.platform

),

final as (

    select
        cast(month as date) as month,
        cast(platform as text) as platform,
        cast(programme_posts as bigint) as programme_posts,
        cast(interactions as bigint) as interactions,
        cast(comments as bigint) as comments,
        cast(round(case engagement_rate_basis
            when 'impressions' then {{ safe_divide('interactions', 'impressions') }}
            when 'audience' then {{ safe_divide('interactions', 'potential_reach') }}
        end, 4) as numeric(12, 4)) as engagement_rate,
        cast(engagement_rate_basis as text) as engagement_rate_basis,
        cast(round({{ safe_divide('mean_personalised', 'mean_not_personalised') }} - 1, 4) as numeric(12, 4))
            as personalised_uplift,
        -- extras
        cast(impressions as bigint) as impressions,
        cast(potential_reach as bigint) as potential_reach
    from based

)

select * from final
