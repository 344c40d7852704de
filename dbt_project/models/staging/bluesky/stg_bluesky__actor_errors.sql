{#
    Account problems of roster handles (not a valid handle, not found, blocking
    us). Bluesky-specific: not part of the platform-neutral set; read by
    fct_source_freshness and useful to fix the roster.
#}
with

source as (

    select * from {{ source('bluesky', 'actor_errors') }}

),

renamed as (

    select
        ----------  ids
        'bluesky' as platform,
        coalesce(record ->> 'actor', _record_key) as account_ref,

        ----------  error
        coalesce(record ->> '_error_kind', 'other') as error_kind,
        record ->> 'error' as error_title,
        record ->> 'message' as error_detail,
        record ->> '_found_via' as found_via,

        ----------  lineage
        _interval_start as snapshot_day,
        _extracted_at as extracted_at,
        _landing_file as source_file,
        _line_no as source_line

    from source

)

select * from renamed
