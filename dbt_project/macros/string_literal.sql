{#
    dbt's own string_literal wraps the value in quotes without escaping it, so a
    programme setting such as suggested_copy "We're hiring" would break the SQL
    (or inject into it). Every setting reaches SQL through this macro: double the
    quotes. (standard_conforming_strings is on: a backslash is an ordinary character.)
#}
{% macro postgres__string_literal(value) -%}
    '{{ value | string | replace("'", "''") }}'
{%- endmacro %}
