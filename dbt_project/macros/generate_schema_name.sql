{#
    Custom schema names are used verbatim (`staging`, `intermediate`, `marts`),
    not prefixed with the target schema as dbt does by default: the warehouse
    has exactly these schemas, created by advocacy.warehouse.ensure_schemas().
#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema | trim }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
