{#
    Each post's counters at its latest snapshot up to the report date
    (lifetime values; a deleted post keeps its last counters).
#}
with

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
    from {{ ref('int_post_metrics_daily') }}
    order by platform asc, post_id asc, day desc

)

select * from final
