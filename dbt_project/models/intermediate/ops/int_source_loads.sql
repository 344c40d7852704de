{#
    What has been loaded per source and stream, up to the report date, from
    the staging model that reads each raw table (the platform registry's
    `streams`, plus the roster): the latest extraction, the latest run day,
    the records of that day and of all days. Streams without any record yet
    (e.g. no deleted post ever) have no row. Sums the per-day counts of
    int_source_loads_daily (incremental).
#}
with

daily as (

    select * from {{ ref('int_source_loads_daily') }}

),

last_day as (

    select
        source,
        stream,
        max(snapshot_day) as last_interval_start
    from daily
    group by source, stream

),

final as (

    select
        daily.source,
        daily.stream,
        max(daily.last_extracted_at) as last_extracted_at,
        last_day.last_interval_start,
        cast(sum(daily.records) filter (where daily.snapshot_day = last_day.last_interval_start) as bigint)
            as records,
        cast(sum(daily.records) as bigint) as records_total
    from daily
    inner join last_day
        on daily.source = last_day.source
        and daily.stream = last_day.stream
    group by daily.source, daily.stream, last_day.last_interval_start

)

select * from final
