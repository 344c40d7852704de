{#
    The counters each LinkedIn post occurrence carries, as of its run day
    (snapshot_day): likes = all reactions (`_likes`, from socialMetadata),
    comments = commentSummary.count, shares = reshares (organisation share
    statistics shareCount or the member analytics RESHARE; null when neither
    was readable), impressions = impressionCount / IMPRESSION (null without
    r_member_postAnalytics or for other authors).
#}
with

source as (

    select * from {{ source('linkedin', 'posts') }}

),

renamed as (

    select
        ----------  ids
        'linkedin' as platform,
        record ->> 'id' as post_id,

        ----------  counters (lifetime values as of snapshot_day)
        cast(record ->> '_likes' as bigint) as likes,
        cast(record ->> '_comments' as bigint) as comments,
        cast(record ->> '_shares' as bigint) as shares,
        cast(record ->> '_impressions' as bigint) as impressions,

        ----------  lineage
        _interval_start as snapshot_day,
        _extracted_at as extracted_at,
        _landing_file as source_file,
        _line_no as source_line

    from source

)

select * from renamed
