{#
    Programme settings as SQL expressions. Every model reads the settings
    through these macros, never `var()` directly, so the defaults and the
    quoting live in one place.
#}

{# The report date: var as_of_date (YYYY-MM-DD), or today in the programme time zone. #}
{% macro as_of_date() -%}
    {%- set d = var('as_of_date', none) -%}
    {%- if d is none or d | string | trim in ('', 'None', 'none', 'null') -%}
        (current_timestamp at time zone {{ programme_timezone() }})::date
    {%- else -%}
        cast({{ dbt.string_literal(d | string | trim) }} as date)
    {%- endif -%}
{%- endmacro %}

{% macro programme_start_date() -%}
    cast({{ dbt.string_literal(var('programme_start_date') | string) }} as date)
{%- endmacro %}

{% macro programme_timezone() -%}
    {{ dbt.string_literal(var('timezone')) }}
{%- endmacro %}

{# A timestamptz as the local date / first day of the local month in the programme time zone. #}
{% macro local_date(ts) -%}
    cast(({{ ts }}) at time zone {{ programme_timezone() }} as date)
{%- endmacro %}

{% macro local_month(ts) -%}
    cast(date_trunc('month', ({{ ts }}) at time zone {{ programme_timezone() }}) as date)
{%- endmacro %}

{# A Python list of strings as a PostgreSQL text[] literal (lowercased when asked). #}
{% macro text_array(values, lower=false) -%}
    {%- set items = [] -%}
    {%- for v in (values or []) -%}
        {%- do items.append(dbt.string_literal((v | string | lower) if lower else (v | string))) -%}
    {%- endfor -%}
    {%- if items -%}
        array[{{ items | join(', ') }}]::text[]
    {%- else -%}
        cast(array[] as text[])
    {%- endif -%}
{%- endmacro %}

{% macro programme_hashtags() -%}
    {%- set tags = [] -%}
    {%- for h in var('hashtags', []) -%}
        {%- set h = h | string | trim | lower -%}
        {%- do tags.append(h if h.startswith('#') else '#' ~ h) -%}
    {%- endfor -%}
    {{ text_array(tags) }}
{%- endmacro %}

{% macro company_domains() -%}
    {{ text_array(var('company_domains', []), lower=true) }}
{%- endmacro %}

{#
    The company accounts of every enabled platform as rows (platform, handle),
    a `values` list usable in a from clause; lowercase, without '@'.
#}
{% macro company_handles_values() -%}
    {%- set rows = [] -%}
    {%- set handles = var('company_handles', {}) or {} -%}
    {%- for platform in enabled_platforms() -%}
        {%- for h in handles.get(platform, []) or [] -%}
            {%- do rows.append('(' ~ dbt.string_literal(platform) ~ ', ' ~ dbt.string_literal(h | string | trim | lower | replace('@', ''))  ~ ')') -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- if rows -%}
        (values {{ rows | join(', ') }})
    {%- else -%}
        (select cast(null as text), cast(null as text) where false)
    {%- endif -%}
{%- endmacro %}

{% macro suggested_copy_values() -%}
    {%- set rows = [] -%}
    {%- for t in var('suggested_copy', []) or [] -%}
        {%- do rows.append('(' ~ dbt.string_literal(t | string) ~ ')') -%}
    {%- endfor -%}
    {%- if rows -%}
        (values {{ rows | join(', ') }})
    {%- else -%}
        (select cast(null as text) where false)
    {%- endif -%}
{%- endmacro %}

{#
    Post text as compared with the suggested copy: lowercase, URLs removed,
    whitespace collapsed, trimmed.
#}
{% macro normalise_text(expr) -%}
    btrim(regexp_replace(regexp_replace(lower(coalesce({{ expr }}, '')), 'https?://[^[:space:]]+', ' ', 'g'), '[[:space:]]+', ' ', 'g'))
{%- endmacro %}

{# The lowercase host of a URL ('https://www.Example.com:8080/x?y' -> 'www.example.com'). #}
{% macro url_host(expr) -%}
    lower(substring({{ expr }} from '^(?:[A-Za-z][A-Za-z0-9+.-]*://)?(?:[^/?#@]*@)?([^/?#:]+)'))
{%- endmacro %}

{# numerator / denominator as numeric; null (never an error) when the denominator is 0 or null. #}
{% macro safe_divide(numerator, denominator) -%}
    (cast({{ numerator }} as numeric) / nullif(cast({{ denominator }} as numeric), 0))
{%- endmacro %}

{# A jsonb value if it is an array, else an empty array (a missing or null key reads as no items). #}
{% macro jsonb_array_or_empty(expr) -%}
    (case when jsonb_typeof({{ expr }}) = 'array' then {{ expr }} else cast('[]' as jsonb) end)
{%- endmacro %}

{#
    A text[] of `item_expr` over the elements of a jsonb array (the element is
    `item`); empty when the value is missing or not an array.
#}
{% macro jsonb_items(array_expr, item_expr) -%}
    array(select {{ item_expr }} from jsonb_array_elements({{ jsonb_array_or_empty(array_expr) }}) as i (item))
{%- endmacro %}

{#
    A leaderboard weight from var('leaderboard_weights') as a numeric literal;
    a weight missing from the settings uses the documented default
    (programme_post 10, like 1, comment 3, share_received 5,
    referral_session 2, conversion 20).
#}
{% macro leaderboard_weight(name) -%}
    {%- set defaults = {'programme_post': 10, 'like': 1, 'comment': 3, 'share_received': 5,
                        'referral_session': 2, 'conversion': 20} -%}
    {%- set weights = var('leaderboard_weights', {}) or {} -%}
    {%- set w = weights.get(name, defaults[name]) -%}
    cast({{ (w if w is not none else 0) | float }} as numeric)
{%- endmacro %}
