{#
    Lookback posts app.bsky.feed.getPosts did not return on snapshot_day:
    deleted, or hidden from us (Bluesky leaves them out of the answer).
#}
with

source as (

    select * from {{ source('bluesky', 'post_errors') }}

),

renamed as (

    select
        ----------  ids
        'bluesky' as platform,
        coalesce(record ->> 'uri', _record_key) as post_id,

        ----------  error
        coalesce(record ->> '_error_kind', 'not_found') as error_kind,
        cast(null as text) as error_title,
        cast(null as text) as error_detail,

        ----------  lineage
        _interval_start as snapshot_day,
        _extracted_at as extracted_at,
        _landing_file as source_file,
        _line_no as source_line

    from source

)

select * from renamed
