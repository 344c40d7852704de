{#
    Each employee's audience on each platform for each reporting month: the
    latest snapshot taken on or before the period end (so the latest in the
    month, or carried forward over a gap); for months before the first
    snapshot, the earliest snapshot carried back - a programme whose
    pipeline was installed mid-way still gets a reach for its early months.
    audience_source says which: in_month | carried_forward | carried_back.
    (Snapshots are already limited to the report date, so the current
    month's latest is the latest up to it; snapshots from before the first
    reporting month count as that month's.)
    Incremental by month (macros/incremental.sql, incremental_month_window):
    a night recomputes the months from the one of its window's first day on,
    from the snapshots since that month's start and, per employee + platform,
    the audience carried into it (the row of the month before); a pair whose
    account changed (account_handle) or that had no snapshot before that
    month is recomputed over every month from all its snapshots.
#}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    pre_hook=["{{ delete_audience_months() }}"],
    post_hook=["{{ record_incremental_build() }}"],
    indexes=[{'columns': ['platform', 'employee_id', 'month']}],
    on_schema_change='append_new_columns'
) }}
{%- set m = incremental_month_window() %}
{%- set since = "cast(" ~ dbt.string_literal(m['month']) ~ " as date)" if not m['full'] %}
with

months as (

    select * from {{ ref('int_months') }}

),

accounts as (

    select * from {{ ref('int_employee_accounts') }}

),
{% if not m['full'] %}
-- the audience carried into the first recomputed month, per pair kept from the last build (the
-- pre-hook deleted the rows of every other pair)
prior as (

    select
        platform,
        employee_id,
        audience_day,
        audience
    from {{ this }}
    where month = cast({{ since }} - interval '1 month' as date)

),

-- the pairs recomputed over every month: all their snapshots (those before the month too)
redo_accounts as (

    select accounts.*
    from accounts
    where not exists (
        select 1
        from prior
        where prior.platform = accounts.platform
            and prior.employee_id = accounts.employee_id
    )

),
{% endif %}
audience as materialized (

    select *
    from {{ ref('int_audience_unioned') }}
    where audience is not null
    {%- if not m['full'] %}
        and snapshot_day >= {{ since }}
    union all
    -- the earlier snapshots of the pairs recomputed over every month
    select *
    from {{ ref('int_audience_unioned') }}
    where audience is not null
        and snapshot_day < {{ since }}
        and (
            (platform, username) in (
                select redo_accounts.platform, redo_accounts.handle
                from redo_accounts
                where redo_accounts.author_key = 'username'
            )
            or (platform, platform_user_id) in (
                select redo_accounts.platform, redo_accounts.handle
                from redo_accounts
                where redo_accounts.author_key = 'user_id'
            )
        )
    {%- endif %}

),

-- the employee of each snapshot, by the one key the platform identifies accounts by: two
-- equi-joins instead of one join on "username = handle or user_id = handle", whose OR forced
-- a nested loop over every snapshot x every account (70 s of 280 at 2,200 employees)
matched as (

    select
        audience.*,
        accounts.employee_id
    from audience
    inner join accounts
        on audience.platform = accounts.platform
        and accounts.author_key = 'username'
        and audience.username = accounts.handle
    union all
    select
        audience.*,
        accounts.employee_id
    from audience
    inner join accounts
        on audience.platform = accounts.platform
        and accounts.author_key = 'user_id'
        and audience.platform_user_id = accounts.handle

),

snapshots as (

    select distinct on (platform, employee_id, snapshot_day)
        platform,
        employee_id,
        snapshot_day,
        audience
    from matched
    order by
        platform asc, employee_id asc, snapshot_day asc,
        extracted_at desc, source_file desc, source_line desc

),

first_month as (

    select min(month) as month from months

),

snapshot_months as (

    select
        snapshots.*,
        greatest(cast(date_trunc('month', snapshots.snapshot_day) as date), first_month.month) as month
    from snapshots
    cross join first_month
    {%- if not m['full'] %}
    union all
    -- a kept pair's audience carried into the first recomputed month: its latest snapshot up to
    -- the month before (its own snapshots read here are all in or after that month)
    select
        platform,
        employee_id,
        audience_day as snapshot_day,
        audience,
        cast({{ since }} - interval '1 month' as date) as month
    from prior
    {%- endif %}

),

monthly_latest as (

    select distinct on (platform, employee_id, month)
        platform,
        employee_id,
        month,
        snapshot_day,
        audience
    from snapshot_months
    order by platform asc, employee_id asc, month asc, snapshot_day desc

),

earliest as (

    select distinct on (platform, employee_id)
        platform,
        employee_id,
        snapshot_day,
        audience
    from snapshot_months
    order by platform asc, employee_id asc, snapshot_day asc

),

grid as (

    select
        months.month,
        earliest.platform,
        earliest.employee_id,
        monthly_latest.snapshot_day,
        monthly_latest.audience,
        -- months since (and including) the latest month with a snapshot share a group
        count(monthly_latest.snapshot_day) over (
            partition by earliest.platform, earliest.employee_id
            order by months.month
        ) as snapshot_group
    from months
    cross join earliest
    left join monthly_latest
        on months.month = monthly_latest.month
        and earliest.platform = monthly_latest.platform
        and earliest.employee_id = monthly_latest.employee_id

),

filled as (

    select
        month,
        platform,
        employee_id,
        snapshot_group,
        first_value(snapshot_day) over carried as carried_day,
        first_value(audience) over carried as carried_audience
    from grid
    window carried as (partition by platform, employee_id, snapshot_group order by month)

),

final as (

    select
        filled.month,
        filled.platform,
        filled.employee_id,
        case when filled.snapshot_group > 0 then filled.carried_audience else earliest.audience end as audience,
        case when filled.snapshot_group > 0 then filled.carried_day else earliest.snapshot_day end as audience_day,
        case
            when filled.snapshot_group = 0 then 'carried_back'
            when filled.carried_day >= filled.month then 'in_month'
            else 'carried_forward'
        end as audience_source,
        -- the account the audience was matched by (a night recomputes a pair whose account changed)
        accounts.handle as account_handle
    from filled
    inner join earliest
        on filled.platform = earliest.platform
        and filled.employee_id = earliest.employee_id
    inner join accounts
        on filled.platform = accounts.platform
        and filled.employee_id = accounts.employee_id
    {%- if not m['full'] %}
    left join prior
        on filled.platform = prior.platform
        and filled.employee_id = prior.employee_id
    -- a kept pair: the recomputed months only
    where prior.employee_id is null or filled.month >= {{ since }}
    {%- endif %}

)

select * from final
