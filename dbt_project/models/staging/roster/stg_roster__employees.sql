with

source as (

    select * from {{ source('roster', 'employees') }}

),

renamed as (

    select
        ----------  ids
        nullif(btrim(record ->> 'employee_id'), '') as employee_id,

        ----------  person (pii)
        nullif(btrim(record ->> 'email'), '') as email,
        nullif(btrim(record ->> 'full_name'), '') as full_name,

        ----------  organisation
        nullif(btrim(record ->> 'department'), '') as department,
        nullif(btrim(record ->> 'country'), '') as country,

        ----------  dates ("" = unknown / never)
        cast(nullif(btrim(record ->> 'hired_at'), '') as date) as hired_at,
        cast(nullif(btrim(record ->> 'left_at'), '') as date) as left_at,
        cast(nullif(btrim(record ->> 'invited_at'), '') as date) as invited_at,
        cast(nullif(btrim(record ->> 'registered_at'), '') as date) as registered_at,

        ----------  consent
        coalesce(lower(btrim(record ->> 'consent_public')) in ('true', 't', '1', 'yes'), false)
            as consent_public,

        nullif(btrim(record ->> 'utm_code'), '') as utm_code,

        ----------  platform accounts, one column per registry platform (usernames lowercase,
        ----------  without '@'; a platform's optional column is null in exports without it)
        {%- for p, cfg in platform_registry().items() %}
            {%- set column = cfg['roster_handle_column'] %}
            {%- if cfg['author_key'] == 'username' %}
                nullif(lower(ltrim(btrim(record ->> '{{ column }}'), '@')), '') as {{ column }},
            {%- else %}
                nullif(btrim(record ->> '{{ column }}'), '') as {{ column }},
            {%- endif %}
        {%- endfor %}

        ----------  lineage
        _interval_start as snapshot_day,
        _extracted_at as extracted_at,
        _landing_file as source_file,
        _line_no as source_line

    from source

)

select * from renamed
