{#
    Each post's counters at its latest snapshot up to the report date
    (lifetime values; a deleted post keeps its last counters).
    Incremental (macros/incremental.sql): a night recomputes the posts with a
    snapshot on the days it rebuilt, or whose latest snapshot was on one of
    them; delete+insert by platform + post_id.
#}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key=['platform', 'post_id'],
    pre_hook=["{{ delete_on_full_window() }}"],
    post_hook=["{{ record_incremental_build() }}"],
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
    where metrics_day >= cast({{ dbt.string_literal(w['first']) }} as date)

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

final as (

    select distinct on (platform, post_id)
        platform,
        post_id,
        day as metrics_day,
        likes,
        comments,
        shares,
        impressions,
        interactions
    from daily
    order by platform asc, post_id asc, day desc

)

select * from final
