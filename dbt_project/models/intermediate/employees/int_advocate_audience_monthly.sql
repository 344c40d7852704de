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
#}
with

months as (

    select * from {{ ref('int_months') }}

),

audience as materialized (

    select *
    from {{ ref('int_audience_unioned') }}
    where audience is not null

),

-- the employee of each snapshot, by the one key the platform identifies accounts by: two
-- equi-joins instead of one join on "username = handle or user_id = handle", whose OR forced
-- a nested loop over every snapshot x every account (70 s of 280 at 2,200 employees)
matched as (

    select audience.*, employee_accounts.employee_id
    from audience
    inner join {{ ref('int_employee_accounts') }} as employee_accounts
        on audience.platform = employee_accounts.platform
        and employee_accounts.author_key = 'username'
        and audience.username = employee_accounts.handle
    union all
    select audience.*, employee_accounts.employee_id
    from audience
    inner join {{ ref('int_employee_accounts') }} as employee_accounts
        on audience.platform = employee_accounts.platform
        and employee_accounts.author_key = 'user_id'
        and audience.platform_user_id = employee_accounts.handle

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
    from snapshots
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
        end as audience_source
    from filled
    inner join earliest
        on filled.platform = earliest.platform
        and filled.employee_id = earliest.employee_id

)

select * from final
