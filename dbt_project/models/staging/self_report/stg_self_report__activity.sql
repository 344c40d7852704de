{#
    Self-reported activity from the latest landed copy of the self-report file
    up to the report date (the whole file is landed every night). Rename +
    cast only: month 'YYYY-MM' -> its first day; platform lowercased and
    trimmed as typed (mapped to a known platform later, macro
    social_platform); counts as integers (empty / non-numeric = 0). A row key
    repeated within the copy keeps its last line.
#}
with

source as (

    select * from {{ source('self_report', 'activity') }}
    where _interval_start <= {{ as_of_date() }}

),

latest_copy as (

    select max(_interval_start) as interval_start from source

),

renamed as (

    select
        ----------  ids
        nullif(btrim(source.record ->> 'employee_id'), '') as employee_id,
        case
            when btrim(source.record ->> 'month') ~ '^[0-9]{4}-[0-9]{2}$'
                then cast(btrim(source.record ->> 'month') || '-01' as date)
        end as month,
        nullif(lower(btrim(source.record ->> 'platform')), '') as platform_reported,

        ----------  counts
        {%- for c in ['posts', 'likes', 'comments', 'shares'] %}
            case
                when btrim(source.record ->> '{{ c }}') ~ '^[0-9]+$'
                    then cast(btrim(source.record ->> '{{ c }}') as integer)
                else 0
            end as {{ c }},
        {%- endfor %}

        ----------  lineage
        coalesce(
            nullif(btrim(source.record ->> '_row_key'), ''),
            source._record_key
        ) as row_key,
        source._interval_start as snapshot_day,
        source._extracted_at as extracted_at,
        source._landing_file as source_file,
        source._line_no as source_line

    from source
    inner join latest_copy
        on source._interval_start = latest_copy.interval_start

),

deduplicated as (

    select distinct on (employee_id, month, platform_reported) *
    from renamed
    where employee_id is not null and month is not null
    order by employee_id asc, month asc, platform_reported asc, source_file desc, source_line desc

)

select * from deduplicated
