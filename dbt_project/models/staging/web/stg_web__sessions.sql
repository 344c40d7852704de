{#
    Web-analytics sessions from the latest landed copy of the sessions file
    up to the report date (the whole file is landed again every night, so
    older copies are superseded, like the roster). Rename + cast only: utm
    values lowercased and trimmed ('' = null); conversions as an integer
    (empty / non-numeric = 0). A session_id repeated within the copy keeps its
    last line.
    A table, unlike the other staging models: the copy is every session of the
    programme, parsed and deduplicated here once a build instead of once per
    reader (int_web_sessions, int_source_loads_daily and six data tests each
    ran this view again).
#}
{{ config(materialized='table') }}
with

source as (

    select * from {{ source('web', 'sessions') }}
    where _interval_start <= {{ as_of_date() }}

),

latest_copy as (

    select max(_interval_start) as interval_start from source

),

renamed as (

    select
        ----------  ids
        nullif(btrim(source.record ->> 'session_id'), '') as session_id,

        ----------  session
        cast(nullif(btrim(source.record ->> 'session_start'), '') as timestamptz) as session_start,
        nullif(btrim(source.record ->> 'landing_page'), '') as landing_page,
        nullif(lower(btrim(source.record ->> 'utm_source')), '') as utm_source,
        nullif(lower(btrim(source.record ->> 'utm_medium')), '') as utm_medium,
        nullif(lower(btrim(source.record ->> 'utm_campaign')), '') as utm_campaign,
        nullif(lower(btrim(source.record ->> 'utm_content')), '') as utm_content,
        case
            when btrim(source.record ->> 'conversions') ~ '^[0-9]+$'
                then cast(btrim(source.record ->> 'conversions') as integer)
            else 0
        end as conversions,
        coalesce(nullif(lower(btrim(source.record ->> '_format')), ''), 'csv') as source_format,

        ----------  lineage
        source._interval_start as snapshot_day,
        source._extracted_at as extracted_at,
        source._landing_file as source_file,
        source._line_no as source_line

    from source
    inner join latest_copy
        on source._interval_start = latest_copy.interval_start

),

deduplicated as (

    select distinct on (session_id) *
    from renamed
    where session_id is not null
    order by session_id asc, source_file desc, source_line desc

)

select * from deduplicated
