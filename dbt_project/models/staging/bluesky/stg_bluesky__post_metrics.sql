{#
    The counters each Bluesky post occurrence carries, as of its run day:
    likes = likeCount, comments = replyCount, shares = repostCount + quoteCount,
    impressions null (Bluesky publishes none). A repost has no counters of its
    own: its row says null (int_post_metrics_daily credits a pure reshare 0).
#}
with

source as (

    select * from {{ source('bluesky', 'posts') }}

),

renamed as (

    select
        ----------  ids
        'bluesky' as platform,
        record ->> 'uri' as post_id,

        ----------  counters (lifetime values as of snapshot_day)
        cast(record ->> 'likeCount' as bigint) as likes,
        cast(record ->> 'replyCount' as bigint) as comments,
        cast(record ->> 'repostCount' as bigint) + cast(record ->> 'quoteCount' as bigint) as shares,
        cast(null as bigint) as impressions,

        ----------  lineage
        _interval_start as snapshot_day,
        _extracted_at as extracted_at,
        _landing_file as source_file,
        _line_no as source_line

    from source

)

select * from renamed
