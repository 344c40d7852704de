{#
    Custom schema names are used verbatim (`staging`, `intermediate`, `marts`),
    not prefixed with the target schema as dbt does by default: the warehouse
    has exactly these schemas, created by advocacy.warehouse.ensure_schemas().

    `marts` is where BI reads. A night builds the marts (and the seeds beside
    them) into var('marts_schema') instead - `marts_build`, which BI cannot
    enter - and only a night that passed the gate is copied into `marts`
    (advocacy.marts.publish, write-audit-publish). A hand-run `dbt build`
    without the var writes `marts` directly, as before.
#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema | trim }}
    {%- elif custom_schema_name | trim == 'marts' -%}
        {{ var('marts_schema', 'marts') | trim }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
