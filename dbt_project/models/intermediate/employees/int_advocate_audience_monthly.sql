{#
    Each employee's audience on each platform for each reporting month: the
    latest snapshot taken on or before the period end (so the latest in the
    month, or carried forward over a gap); for months before the first
    snapshot, the earliest snapshot carried back - a programme whose
    pipeline was installed mid-way still gets a reach for its early months.
    audience_source says which: in_month | carried_forward | carried_back.
#}
with

months as (

    select * from {{ ref('int_months') }}

),

snapshots as (

    select distinct on (audience.platform, accounts.employee_id, audience.snapshot_day)
        audience.platform,
        accounts.employee_id,
        audience.snapshot_day,
        audience.audience
    from {{ ref('int_audience_unioned') }} as audience
    inner join {{ ref('int_employee_accounts') }} as accounts
        on audience.platform = accounts.platform
        and (
            (accounts.author_key = 'username' and audience.username = accounts.handle)
            or (accounts.author_key = 'user_id' and audience.platform_user_id = accounts.handle)
        )
    where audience.audience is not null
    order by
        audience.platform, accounts.employee_id, audience.snapshot_day,
        audience.extracted_at desc, audience.source_file desc, audience.source_line desc

),

accounts as (

    select distinct
        platform,
        employee_id
    from snapshots

),

final as (

    select
        months.month,
        accounts.platform,
        accounts.employee_id,
        coalesce(up_to_period_end.audience, earliest.audience) as audience,
        coalesce(up_to_period_end.snapshot_day, earliest.snapshot_day) as audience_day,
        case
            when up_to_period_end.snapshot_day >= months.month then 'in_month'
            when up_to_period_end.snapshot_day is not null then 'carried_forward'
            else 'carried_back'
        end as audience_source
    from months
    cross join accounts
    left join lateral (
        select
            snapshots.audience,
            snapshots.snapshot_day
        from snapshots
        where snapshots.platform = accounts.platform
            and snapshots.employee_id = accounts.employee_id
            and snapshots.snapshot_day <= months.period_end
        order by snapshots.snapshot_day desc
        limit 1
    ) as up_to_period_end on true
    left join lateral (
        select
            snapshots.audience,
            snapshots.snapshot_day
        from snapshots
        where snapshots.platform = accounts.platform
            and snapshots.employee_id = accounts.employee_id
        order by snapshots.snapshot_day
        limit 1
    ) as earliest on true

)

select * from final
