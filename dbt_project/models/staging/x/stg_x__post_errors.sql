{#
    Posts the metric-refresh lookup could not return on snapshot_day (X partial
    errors): deleted, or no longer visible (protected author, suspension).
#}
with

source as (

    select * from {{ source('x', 'tweet_errors') }}

),

renamed as (

    select
        ----------  ids
        'x' as platform,
        coalesce(record ->> 'resource_id', record ->> 'value', _record_key) as post_id,

        ----------  error
        coalesce(
            record ->> '_error_kind',
            case
                when record ->> 'type' like '%/resource-not-found' then 'not_found'
                when record ->> 'type' like '%/not-authorized-for-resource' then 'not_authorized'
                else 'other'
            end
        ) as error_kind,
        record ->> 'title' as error_title,
        record ->> 'detail' as error_detail,

        ----------  lineage
        _interval_start as snapshot_day,
        _extracted_at as extracted_at,
        _landing_file as source_file,
        _line_no as source_line

    from source

)

select * from renamed
