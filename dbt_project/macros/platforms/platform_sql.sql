{#
    SQL generated from the platform registry, kept out of the model files so
    they stay plain SQL around one call.
#}

{#
    One `select` per enabled platform of the roster's account column for it
    (employee_id, platform, handle, author_key, left_at, hired_at), unioned;
    an empty typed relation when no platform is enabled. Usernames lowercase.
#}
{% macro roster_accounts_union() -%}
    {%- set registry = platform_registry() -%}
    {%- set platforms = enabled_platforms() -%}
    {%- if platforms | length == 0 %}
    select
        cast(null as text) as employee_id,
        cast(null as text) as platform,
        cast(null as text) as handle,
        cast(null as text) as author_key,
        cast(null as date) as left_at,
        cast(null as date) as hired_at
    where false
    {%- endif %}
    {%- for p in platforms %}
        {%- set cfg = registry[p] %}
        {%- set column = cfg['roster_handle_column'] %}
    select
        employee_id,
        {{ dbt.string_literal(p) }} as platform,
        {{ 'lower(' ~ column ~ ')' if cfg['author_key'] == 'username' else column }} as handle,
        {{ dbt.string_literal(cfg['author_key']) }} as author_key,
        left_at,
        hired_at
    from {{ ref('int_employees') }}
    where {{ column }} is not null
        {%- if not loop.last %}
    union all
        {%- endif %}
    {%- endfor %}
{%- endmacro %}

{#
    (source, stream, snapshot_day, extracted_at) of every record up to the
    report date, over the staging model of each raw table: the roster's and
    the enabled platforms' registry `streams`, unioned.
#}
{% macro source_streams_union() -%}
    {%- set streams = [] -%}
    {%- for source, by_stream in other_source_streams().items() -%}
        {%- for stream, model in by_stream.items() -%}{%- do streams.append((source, stream, model)) -%}{%- endfor -%}
    {%- endfor -%}
    {%- for p in enabled_platforms() -%}
        {%- for stream, model in platform_registry()[p]['streams'].items() -%}
            {%- do streams.append((p, stream, model)) -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- for source, stream, model in streams %}
    select
        {{ dbt.string_literal(source) }} as source,
        {{ dbt.string_literal(stream) }} as stream,
        snapshot_day,
        extracted_at
    from {{ ref(model) }}
    where snapshot_day <= {{ as_of_date() }}
        {%- if not loop.last %}
    union all
        {%- endif %}
    {%- endfor %}
{%- endmacro %}
