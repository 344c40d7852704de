{#
    The counters each Instagram media occurrence carries, as of its run day
    (snapshot_day): likes = like_count (null when the owner hides likes),
    comments = comments_count; shares and impressions are null (the API gives
    no shares; impressions are not read).
#}
with

source as (

    select * from {{ source('instagram', 'media') }}

),

renamed as (

    select
        ----------  ids
        'instagram' as platform,
        record ->> 'id' as post_id,

        ----------  counters (lifetime values as of snapshot_day)
        cast(coalesce(record ->> '_likes', record ->> 'like_count') as bigint) as likes,
        cast(coalesce(record ->> '_comments', record ->> 'comments_count') as bigint) as comments,
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
