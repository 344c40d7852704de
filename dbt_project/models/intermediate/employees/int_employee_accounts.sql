{#
    Identity resolution: each employee's account on each enabled platform,
    from the roster column the platform registry names (x: x_username).
    `author_key` says what the handle identifies: 'username' (matched
    case-insensitively with a post's author_username) or 'user_id' (matched
    with author_platform_user_id). A handle listed for two employees goes to
    the one still employed, then the most recently hired, then the lowest id.
#}
{%- set registry = platform_registry() %}
with

accounts as (
{%- set platforms = enabled_platforms() %}
{%- if platforms | length == 0 %}

    select
        cast(null as text) as employee_id,
        cast(null as text) as platform,
        cast(null as text) as handle,
        cast(null as text) as author_key,
        cast(null as date) as left_at,
        cast(null as date) as hired_at
    where false
{%- else %}
{%- for p in platforms %}
{%- set cfg = registry[p] %}

    select
        employee_id,
        {{ dbt.string_literal(p) }} as platform,
        {%- if cfg['author_key'] == 'username' %}
        lower({{ cfg['roster_handle_column'] }}) as handle,
        {%- else %}
        {{ cfg['roster_handle_column'] }} as handle,
        {%- endif %}
        {{ dbt.string_literal(cfg['author_key']) }} as author_key,
        left_at,
        hired_at
    from {{ ref('int_employees') }}
    where {{ cfg['roster_handle_column'] }} is not null
    {%- if not loop.last %}

    union all
    {%- endif %}
{%- endfor %}
{%- endif %}

),

ranked as (

    select
        *,
        row_number() over (
            partition by platform, handle
            order by (left_at is null) desc, hired_at desc nulls last, employee_id
        ) as handle_rank
    from accounts

),

final as (

    select
        employee_id,
        platform,
        handle,
        author_key
    from ranked
    where handle_rank = 1

)

select * from final
