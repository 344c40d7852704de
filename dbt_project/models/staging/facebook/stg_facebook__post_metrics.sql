{#
    The counters each Facebook post occurrence carries, as of its run day
    (snapshot_day): likes = reactions (connector `_likes`), comments, shares
    (`_shares`: 0 when Graph omitted shares), impressions (`_impressions`:
    Page posts' insights; null for personal posts, which have none).
#}
with

source as (

    select * from {{ source('facebook', 'posts') }}

),

renamed as (

    select
        ----------  ids
        'facebook' as platform,
        record ->> 'id' as post_id,

        ----------  counters (lifetime values as of snapshot_day)
        cast(coalesce(record ->> '_likes', record -> 'reactions' -> 'summary' ->> 'total_count') as bigint)
            as likes,
        cast(coalesce(record ->> '_comments', record -> 'comments' -> 'summary' ->> 'total_count') as bigint)
            as comments,
        cast(coalesce(record ->> '_shares', record -> 'shares' ->> 'count', '0') as bigint) as shares,
        cast(record ->> '_impressions' as bigint) as impressions,

        ----------  lineage
        _interval_start as snapshot_day,
        _extracted_at as extracted_at,
        _landing_file as source_file,
        _line_no as source_line

    from source

)

select * from renamed
