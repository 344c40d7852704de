{#
    What has been loaded per source and stream, up to the report date, from
    the staging model that reads each raw table (the platform registry's
    `streams`, plus the roster): the latest extraction, the latest run day,
    the records of that day and of all days. Streams without any record yet
    (e.g. no deleted post ever) have no row.
#}
with

unioned as (

    {{ source_streams_union() }}

),

last_day as (

    select
        source,
        stream,
        max(snapshot_day) as last_interval_start
    from unioned
    group by source, stream

),

final as (

    select
        unioned.source,
        unioned.stream,
        max(unioned.extracted_at) as last_extracted_at,
        last_day.last_interval_start,
        count(*) filter (where unioned.snapshot_day = last_day.last_interval_start) as records,
        count(*) as records_total
    from unioned
    inner join last_day
        on unioned.source = last_day.source
        and unioned.stream = last_day.stream
    group by unioned.source, unioned.stream, last_day.last_interval_start

)

select * from final
