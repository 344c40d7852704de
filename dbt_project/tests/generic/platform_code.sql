{# A platform code: a platform of the registry (macro platform_registry) or one of `also`
   ('other', 'ALL'); null allowed. The registry's list, so a new platform needs no edit here. #}
{% test platform_code(model, column_name, also=[]) %}

select {{ column_name }}
from {{ model }}
where {{ column_name }} != all({{ text_array((platform_registry().keys() | list) + also) }})

{% endtest %}
