{#
    Every row satisfies a SQL boolean expression (rows where it is false are
    failures; null counts as a failure unless the expression handles it).
    On a column: the expression may use the column name. `where` as usual.
#}
{% test expression_is_true(model, expression, column_name=none) %}

select *
from {{ model }}
where not coalesce(({{ expression }}), false)

{% endtest %}
