{#
    Per source, stream and run day up to the report date: records and the
    latest extraction, from the staging model that reads each raw table (the
    platform registry's `streams`, plus the roster). Incremental by run day
    (macros/incremental.sql), so int_source_loads does not count every raw
    row again each night; the file sources whose staging reads only the
    latest landed copy (latest_copy_sources: sessions, self-reports) are
    recounted whole, so an older copy's day goes as it does in a full refresh.
#}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    pre_hook=["{{ delete_incremental_window('snapshot_day', also=latest_copy_predicate()) }}"],
    post_hook=["{{ record_incremental_build() }}"],
    on_schema_change='append_new_columns'
) }}
with

unioned as (

    {{ source_streams_union() }}

),

final as (

    select
        source,
        stream,
        snapshot_day,
        max(extracted_at) as last_extracted_at,
        count(*) as records
    from unioned
    where {{ in_incremental_window('snapshot_day') }}
        or {{ latest_copy_predicate() }}
    group by source, stream, snapshot_day

)

select * from final
