{#
    One row per platform + post: every post found by an advocate's timeline or
    the programme search, except the company accounts' own posts, with its
    classification (int_posts_classified) and credited counters at the latest
    snapshot up to the report date (int_post_metrics_latest: a pure reshare's
    likes / comments / shares / interactions are 0, its engagement belongs to
    the original). Deleted posts stay, with is_deleted / deleted_on and their
    last counters.
#}
with

posts as (

    select * from {{ ref('int_posts_classified') }}

),

metrics as (

    select * from {{ ref('int_post_metrics_latest') }}

),

final as (

    select
        cast(posts.platform as text) as platform,
        cast(posts.post_id as text) as post_id,
        cast(posts.employee_id as text) as employee_id,
        cast(posts.created_at as timestamptz) as created_at,
        cast(posts.is_programme_post as boolean) as is_programme_post,
        cast(posts.is_pure_reshare as boolean) as is_pure_reshare,
        cast(posts.is_personalised as boolean) as is_personalised,
        cast(metrics.likes as bigint) as likes,
        cast(metrics.comments as bigint) as comments,
        cast(metrics.shares as bigint) as shares,
        cast(metrics.impressions as bigint) as impressions,
        cast(metrics.interactions as bigint) as interactions,
        cast(posts.found_via as text) as found_via,
        -- extras
        cast(posts.is_community_post as boolean) as is_community_post,
        cast(posts.post_type as text) as post_type,
        cast(posts.created_date as date) as created_date,
        cast(posts.created_month as date) as created_month,
        cast(posts.referenced_post_id as text) as referenced_post_id,
        cast(posts.has_programme_hashtag as boolean) as has_programme_hashtag,
        cast(posts.mentions_company as boolean) as mentions_company,
        cast(posts.links_company_domain as boolean) as links_company_domain,
        cast(posts.references_company_post as boolean) as references_company_post,
        cast(posts.is_suggested_copy as boolean) as is_suggested_copy,
        cast(posts.is_deleted as boolean) as is_deleted,
        cast(posts.deleted_on as date) as deleted_on,
        cast(posts.first_seen_day as date) as first_seen_day,
        cast(metrics.metrics_day as date) as metrics_day
    from posts
    left join metrics
        on posts.platform = metrics.platform
        and posts.post_id = metrics.post_id

)

select * from final
