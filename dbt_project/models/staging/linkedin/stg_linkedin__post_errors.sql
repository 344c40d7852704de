{#
    Post URNs the metric-refresh batch get reported on snapshot_day (not found
    = deleted, not authorised = no longer visible).
#}
with

source as (

    select * from {{ source('linkedin', 'post_errors') }}

),

renamed as (

    select
        ----------  ids
        'linkedin' as platform,
        coalesce(record ->> 'id', _record_key) as post_id,

        ----------  error
        coalesce(record ->> '_error_kind', 'other') as error_kind,
        coalesce(record ->> 'code', 'HTTP ' || (record ->> 'status')) as error_title,
        record ->> 'message' as error_detail,

        ----------  lineage
        _interval_start as snapshot_day,
        _extracted_at as extracted_at,
        _landing_file as source_file,
        _line_no as source_line

    from source

)

select * from renamed
