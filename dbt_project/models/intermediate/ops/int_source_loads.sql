{#
    What has been loaded per source and stream, up to the report date, from
    the staging model that reads each raw table (the platform registry's
    `streams`, plus the roster): the latest extraction, the latest run day,
    the records of that day and of all days. Streams without any record yet
    (e.g. no deleted post ever) have no row.
#}
{%- set streams = [] %}
{%- for source, by_stream in other_source_streams().items() %}
    {%- for stream, model in by_stream.items() %}{% do streams.append((source, stream, model)) %}{% endfor %}
{%- endfor %}
{%- for p in enabled_platforms() %}
    {%- for stream, model in platform_registry()[p]['streams'].items() %}{% do streams.append((p, stream, model)) %}{% endfor %}
{%- endfor %}
with
{% for source, stream, model in streams %}
{{ source }}__{{ stream }} as (

    select
        {{ dbt.string_literal(source) }} as source,
        {{ dbt.string_literal(stream) }} as stream,
        snapshot_day,
        extracted_at
    from {{ ref(model) }}
    where snapshot_day <= {{ as_of_date() }}

),
{% endfor %}
unioned as (
{%- for source, stream, model in streams %}

    select * from {{ source }}__{{ stream }}
    {%- if not loop.last %}
    union all
    {%- endif %}
{%- endfor %}

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
