{#
    Every combination of `columns` in the model exists in `to` (matched on
    `to_columns`, default the same names): a relationships test over a
    composite key such as (platform, post_id). Rows with a null in any column
    are not checked, like dbt's relationships test.
#}
{% test relationships_composite(model, columns, to, to_columns=none) %}
{%- set to_columns = to_columns or columns -%}

select child.*
from {{ model }} as child
where {% for c in columns %}child.{{ c }} is not null{{ ' and ' if not loop.last }}{% endfor %}
  and not exists (
      select 1
      from {{ to }} as parent
      where {% for c in columns %}parent.{{ to_columns[loop.index0] }} = child.{{ c }}{{ ' and ' if not loop.last }}{% endfor %}
  )

{% endtest %}
