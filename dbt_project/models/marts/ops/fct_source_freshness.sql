{#
    Data freshness per source and stream, for the report (which must not read
    raw): the latest extraction, the latest run day loaded and its record
    count, up to the report date. A stream without any record yet (e.g. no
    post ever deleted) has no row.
#}
with

loads as (

    select * from {{ ref('int_source_loads') }}

),

final as (

    select
        cast(source as text) as source,
        cast(stream as text) as stream,
        cast(last_extracted_at as timestamptz) as last_extracted_at,
        cast(last_interval_start as date) as last_interval_start,
        cast(records as bigint) as records,
        -- extras
        cast(records_total as bigint) as records_total
    from loads

)

select * from final
