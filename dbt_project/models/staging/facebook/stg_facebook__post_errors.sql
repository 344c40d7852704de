{#
    Posts the metric-refresh lookup could not return on snapshot_day (Graph
    reported the lookback id missing, #803, or not readable): deleted or no
    longer visible.
#}
with

source as (

    select * from {{ source('facebook', 'post_errors') }}

),

renamed as (

    select
        ----------  ids
        'facebook' as platform,
        coalesce(record ->> 'id', _record_key) as post_id,

        ----------  error
        coalesce(record ->> '_error_kind', 'other') as error_kind,
        coalesce(record -> 'error' ->> 'type', 'Graph error ' || (record -> 'error' ->> 'code')) as error_title,
        record -> 'error' ->> 'message' as error_detail,

        ----------  lineage
        _interval_start as snapshot_day,
        _extracted_at as extracted_at,
        _landing_file as source_file,
        _line_no as source_line

    from source

)

select * from renamed
