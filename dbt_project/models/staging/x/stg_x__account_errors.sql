{#
    Account problems reported by X or the connector (a roster handle that does
    not exist or is not a valid username, a suspended or protected account).
    X-specific: not part of the platform-neutral set; read by fct_source_freshness
    and useful to fix the roster.
#}
with

source as (

    select * from {{ source('x', 'user_errors') }}

),

renamed as (

    select
        ----------  ids
        'x' as platform,
        coalesce(record ->> 'resource_id', record ->> 'value', _record_key) as account_ref,

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
        record ->> '_found_via' as found_via,

        ----------  lineage
        _interval_start as snapshot_day,
        _extracted_at as extracted_at,
        _landing_file as source_file,
        _line_no as source_line

    from source

)

select * from renamed
