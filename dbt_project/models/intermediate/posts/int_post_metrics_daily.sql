{#
    One row per post of int_posts_classified and snapshot day (up to the report
    date): the counters as of that day, from the latest extraction of the day.
    Credited counters: a pure reshare's likes, comments and shares belong to
    the original post, so they are 0 here (its impressions stay as the
    platform reports them); reported_* keep the platform's own values.
    Incremental by snapshot day (macros/incremental.sql): a night computes
    only the days it loaded (a post's existence and pure-reshare flag do not
    change once it is found, so older days stay right).
#}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    pre_hook=["{{ delete_incremental_window('day') }}"],
    post_hook=["{{ record_incremental_build() }}"],
    indexes=[{'columns': ['platform', 'post_id', 'day']}, {'columns': ['day']}],
    on_schema_change='append_new_columns'
) }}
with

metrics as (

    select distinct on (platform, post_id, snapshot_day) *
    from {{ ref('int_post_metrics_unioned') }}
    where {{ in_incremental_window('snapshot_day') }}
    order by
        platform asc, post_id asc, snapshot_day asc,
        extracted_at desc, source_file desc, source_line desc

),

posts as (

    select
        platform,
        post_id,
        is_pure_reshare
    from {{ ref('int_posts_classified') }}

),

final as (

    select
        metrics.platform,
        metrics.post_id,
        metrics.snapshot_day as day,
        case when posts.is_pure_reshare then 0 else metrics.likes end as likes,
        case when posts.is_pure_reshare then 0 else metrics.comments end as comments,
        case when posts.is_pure_reshare then 0 else metrics.shares end as shares,
        metrics.impressions,
        case
            when posts.is_pure_reshare then 0
            else coalesce(metrics.likes, 0) + coalesce(metrics.comments, 0) + coalesce(metrics.shares, 0)
        end as interactions,
        metrics.likes as reported_likes,
        metrics.comments as reported_comments,
        metrics.shares as reported_shares,
        posts.is_pure_reshare
    from metrics
    inner join posts
        on metrics.platform = posts.platform
        and metrics.post_id = posts.post_id

)

select * from final
