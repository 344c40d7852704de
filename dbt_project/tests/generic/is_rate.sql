{# A rate: numeric between 0 and 1, or null (a zero denominator). #}
{% test is_rate(model, column_name) %}

select {{ column_name }}
from {{ model }}
where {{ column_name }} is not null
  and ({{ column_name }} < 0 or {{ column_name }} > 1)

{% endtest %}
