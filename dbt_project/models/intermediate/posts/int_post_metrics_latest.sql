{#
    Each post's counters at its latest snapshot up to the report date
    (lifetime values; a deleted post keeps its last counters).
    Incremental (macros/incremental.sql): a night recomputes the posts with a
    snapshot on or after the window's first day (their latest one is there:
    read by day, not all their snapshots), and, from all their snapshots,
    those whose latest snapshot was there but have none left there (a
    replaced day lost it); delete+insert by platform + post_id.
#}
{{ incremental_by_post_config() }}
{%- set w = incremental_window() %}
with
{% if not w['full'] %}
recent as (

    -- every snapshot from the window's first day on (each window day's among them)
    select *
    from {{ ref('int_post_metrics_daily') }}
    where day >= cast({{ dbt.string_literal(w['first']) }} as date)

),

lost as (

    -- latest snapshot on / after the first day, none there any more
    select platform, post_id
    from {{ this }}
    where metrics_day >= cast({{ dbt.string_literal(w['first']) }} as date)
    except
    select platform, post_id
    from recent

),

daily as (

    select * from recent
    union all
    select daily.*
    from {{ ref('int_post_metrics_daily') }} as daily
    inner join lost
        on daily.platform = lost.platform
        and daily.post_id = lost.post_id

),
{% else %}
    daily as (

        select * from {{ ref('int_post_metrics_daily') }}

    ),
{% endif %}
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
