{#
    The roster as of the report date: the latest nightly copy (snapshot_day)
    up to var('as_of_date'), one row per employee. Cleaning decisions:
    an empty department becomes 'Unknown'; an employee with registered_at but
    no invited_at counts as invited on the registration day; a duplicated
    employee_id within one copy keeps its last line.
#}
with

roster as (

    select *
    from {{ ref('stg_roster__employees') }}
    where snapshot_day <= {{ as_of_date() }}

),

latest_copy as (

    select max(snapshot_day) as snapshot_day from roster

),

deduplicated as (

    select distinct on (roster.employee_id) roster.*
    from roster
    inner join latest_copy on roster.snapshot_day = latest_copy.snapshot_day
    where roster.employee_id is not null
    order by roster.employee_id asc, roster.source_file desc, roster.source_line desc

),

final as (

    select
        employee_id,
        email,
        full_name,
        coalesce(department, 'Unknown') as department,
        country,
        hired_at,
        left_at,
        coalesce(invited_at, registered_at) as invited_at,
        registered_at,
        consent_public,
        case when consent_public then full_name end as display_name,
        x_username,
        linkedin_member_urn,
        facebook_user_id,
        instagram_username,
        utm_code,
        bluesky_handle,
        snapshot_day as roster_day
    from deduplicated

)

select * from final
