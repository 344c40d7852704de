{#
    One row per post of fct_posts and snapshot day: credited counters as of
    that day and their change since the post's previous snapshot (*_delta;
    the first snapshot's delta is its value; a delta is null where a counter
    is null on either day). Deltas may be negative (a like withdrawn).
    Incremental (macros/incremental.sql): a night recomputes every snapshot
    of the posts with a snapshot on the days it rebuilt (so the deltas after
    a replaced day follow it); delete+insert by platform + post_id.
#}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key=['platform', 'post_id'],
    pre_hook=["{{ delete_on_full_window() }}"],
    post_hook=["{{ record_incremental_build() }}"],
    indexes=[{'columns': ['platform', 'post_id', 'day']}, {'columns': ['day']}],
    on_schema_change='append_new_columns'
) }}
{%- set w = incremental_window() %}
with
{% if not w['full'] %}
affected as (

    select platform, post_id
    from {{ ref('int_post_metrics_daily') }}
    where {{ in_incremental_window('day', w) }}
    union
    select platform, post_id
    from {{ this }}
    where {{ in_incremental_window('day', w) }}

),
{% endif %}
daily as (

    select daily.*
    from {{ ref('int_post_metrics_daily') }} as daily
    {%- if not w['full'] %}
    inner join affected
        on daily.platform = affected.platform
        and daily.post_id = affected.post_id
    {%- endif %}

),

with_previous as (

    select
        *,
        lag(day) over post_days as previous_day,
        lag(likes) over post_days as previous_likes,
        lag(comments) over post_days as previous_comments,
        lag(shares) over post_days as previous_shares,
        lag(impressions) over post_days as previous_impressions,
        lag(interactions) over post_days as previous_interactions
    from daily
    window post_days as (partition by platform, post_id order by day)

),

final as (

    select
        cast(platform as text) as platform,
        cast(post_id as text) as post_id,
        cast(day as date) as day,
        cast(likes as bigint) as likes,
        cast(comments as bigint) as comments,
        cast(shares as bigint) as shares,
        cast(impressions as bigint) as impressions,
        cast(interactions as bigint) as interactions,
        {%- for c in ['likes', 'comments', 'shares', 'impressions', 'interactions'] %}
            cast(case when previous_day is null then {{ c }} else {{ c }} - previous_{{ c }} end as bigint)
                as {{ c }}_delta,
        {%- endfor %}
        cast(previous_day as date) as previous_day
    from with_previous

)

select * from final
