{#
    Each post's counters at its latest snapshot up to the report date
    (lifetime values; a deleted post keeps its last counters).
    Incremental (macros/incremental.sql): a night recomputes the posts with a
    snapshot on the days it rebuilt, or whose latest snapshot was on one of
    them; delete+insert by platform + post_id.
#}
{{ incremental_by_post_config() }}
{%- set w = incremental_window() %}
with
{% if not w['full'] %}
affected as (

    -- a snapshot on a window day, or the latest one on / after its first day
    {{- affected_posts(w, [(ref('int_post_metrics_daily'), 'day')], this_day_column='metrics_day') }}

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
