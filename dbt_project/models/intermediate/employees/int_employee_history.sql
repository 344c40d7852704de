{#
    The roster's history: one row per employee and version, from every
    nightly roster copy (stg_roster__employees, one copy per roster day) up
    to var('as_of_date'). History is keyed by roster day, not by build time:
    a rerun of a day with a corrected export replaces that day's copy in raw,
    so it replaces that day's version here, and a rebuild always gives the
    same history (nothing to wedge, nothing to repair by hand).

    A new version starts on the first roster day an employee appears, on a
    day any attribute changed, and on a day they reappear after missing
    copies. valid_to is the roster day the next version starts or, when the
    employee was missing from the next copy, that copy's day
    (removed_on: the employee was closed - treated as left - from then on).
    Everyone ever seen stays.
#}
with

copies as (

    select
        snapshot_day as roster_day,
        row_number() over (order by snapshot_day) as copy_no
    from {{ ref('stg_roster__employees') }}
    where snapshot_day <= {{ as_of_date() }}
    group by snapshot_day

),

-- one row per employee and copy (the check keeps one line per key; this guards older copies)
present as (

    select distinct on (roster.employee_id, roster.snapshot_day)
        roster.*,
        copies.copy_no,
        -- a row's text tells null from '' and keeps each value in its place
        md5(cast(row(
            roster.email, roster.full_name, roster.department, roster.country,
            roster.hired_at, roster.left_at, roster.invited_at, roster.registered_at,
            roster.consent_public, roster.utm_code,
            {%- for column in roster_handle_columns() %}
                roster.{{ column }}{{ ',' if not loop.last }}
            {%- endfor %}
        ) as text)) as attributes_hash
    from {{ ref('stg_roster__employees') }} as roster
    inner join copies on roster.snapshot_day = copies.roster_day
    where roster.employee_id is not null
    order by roster.employee_id asc, roster.snapshot_day asc, roster.source_file desc, roster.source_line desc

),

flagged as (

    select
        *,
        case
            when
                lag(copy_no) over (partition by employee_id order by copy_no) = copy_no - 1
                and lag(attributes_hash) over (partition by employee_id order by copy_no) = attributes_hash
                then 0
            else 1
        end as starts_version
    from present

),

numbered as (

    select
        *,
        sum(starts_version) over (partition by employee_id order by copy_no) as version_no
    from flagged

),

versions as (

    select
        employee_id,
        version_no,
        min(copy_no) as first_copy_no,
        max(copy_no) as last_copy_no
    from numbered
    group by employee_id, version_no

),

bounded as (

    select
        versions.employee_id,
        versions.version_no,
        versions.first_copy_no,
        versions.last_copy_no,
        last_copy.roster_day as last_seen_on,
        next_copy.roster_day as next_copy_day,
        lead(versions.first_copy_no) over (
            partition by versions.employee_id order by versions.version_no
        ) as next_version_copy_no
    from versions
    inner join copies as last_copy on versions.last_copy_no = last_copy.copy_no
    left join copies as next_copy on versions.last_copy_no + 1 = next_copy.copy_no

),

final as (

    select
        numbered.employee_id,
        numbered.version_no,
        numbered.email,
        numbered.full_name,
        numbered.department,
        numbered.country,
        numbered.hired_at,
        numbered.left_at,
        numbered.invited_at,
        numbered.registered_at,
        numbered.consent_public,
        numbered.utm_code,
        {%- for column in roster_handle_columns() %}
            numbered.{{ column }},
        {%- endfor %}
        numbered.snapshot_day as valid_from,
        bounded.next_copy_day as valid_to,
        bounded.last_seen_on,
        -- the employee was missing from the next copy: closed from that roster day
        case
            when
                bounded.next_copy_day is not null
                and coalesce(bounded.next_version_copy_no, 0) != bounded.last_copy_no + 1
                then bounded.next_copy_day
        end as removed_on,
        bounded.next_copy_day is null as is_current
    from numbered
    inner join bounded
        on numbered.employee_id = bounded.employee_id
        and numbered.version_no = bounded.version_no
        and numbered.copy_no = bounded.first_copy_no

)

select * from final
