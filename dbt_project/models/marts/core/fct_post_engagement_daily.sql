{#
    One row per post of fct_posts and snapshot day: credited counters as of
    that day and their change since the post's previous snapshot (*_delta;
    the first snapshot's delta is its value; a delta is null where a counter
    is null on either day). Deltas may be negative (a like withdrawn).
    Incremental (macros/incremental.sql): a night recomputes the snapshots
    from the window's first day on of the posts with a snapshot in the window
    (each with its previous snapshot, for the deltas, read by one index probe
    per post; later days follow a replaced one); the window's days are
    deleted first (pre-hook), the rest delete+insert by platform + post_id +
    day.
#}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key=['platform', 'post_id', 'day'],
    pre_hook=["{{ delete_incremental_window('day') }}"],
    post_hook=["{{ record_incremental_build() }}"],
    indexes=[{'columns': ['platform', 'post_id', 'day']}, {'columns': ['day']}],
    on_schema_change='append_new_columns'
) }}
{%- set w = incremental_window() %}
with
{% if not w['full'] %}
affected as (

    select distinct platform, post_id
    from {{ ref('int_post_metrics_daily') }}
    where {{ in_incremental_window('day', w) }}

),

daily as (

    select daily.*
    from {{ ref('int_post_metrics_daily') }} as daily
    inner join affected
        on daily.platform = affected.platform
        and daily.post_id = affected.post_id
    where daily.day >= cast({{ dbt.string_literal(w['first']) }} as date)
    union all
    -- each post's snapshot before them: the previous values of the first recomputed day (one
    -- index probe per post, not all its snapshots)
    select previous_snapshot.*
    from affected
    cross join lateral (
        select *
        from {{ ref('int_post_metrics_daily') }} as daily
        where daily.platform = affected.platform
            and daily.post_id = affected.post_id
            and daily.day < cast({{ dbt.string_literal(w['first']) }} as date)
        order by daily.day desc
        limit 1
    ) as previous_snapshot

),
{% else %}
    daily as (

        select * from {{ ref('int_post_metrics_daily') }}

    ),
{% endif %}
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
{%- if not w['full'] %}
where day >= cast({{ dbt.string_literal(w['first']) }} as date)
{%- endif %}
