{#
    Every employee ever seen in a roster copy up to the report date, one row
    each, with the attributes of their latest version (int_employee_history).
    History is append-only: an employee missing from the latest copy (an HR
    system that drops leavers, one export that left someone out) is closed,
    not erased - left_at is HR's leaving date or else the first roster day
    they were missing (removed_on) - so every month before keeps them.
    Cleaning decisions: an empty department becomes 'Unknown'; an employee
    with registered_at but no invited_at counts as invited on the
    registration day.
#}
with

latest_version as (

    select distinct on (employee_id) *
    from {{ ref('int_employee_history') }}
    order by employee_id asc, version_no desc

),

final as (

    select
        employee_id,
        email,
        full_name,
        coalesce(department, 'Unknown') as department,
        country,
        hired_at,
        coalesce(left_at, removed_on) as left_at,
        coalesce(invited_at, registered_at) as invited_at,
        registered_at,
        consent_public,
        case when consent_public then full_name end as display_name,
        utm_code,
        {%- for column in roster_handle_columns() %}
            {{ column }},
        {%- endfor %}
        removed_on as removed_from_roster_on,
        last_seen_on as roster_day
    from latest_version

)

select * from final
