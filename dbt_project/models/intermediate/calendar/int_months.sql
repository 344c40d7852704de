{#
    The reporting months: every calendar month (programme time zone) from the
    month of var('programme_start_date') to the month of the report date.
    period_end = the month's last day, or the report date for the current month.
#}
with

bounds as (

    select
        cast(date_trunc('month', {{ programme_start_date() }}) as date) as first_month,
        cast(date_trunc('month', {{ as_of_date() }}) as date) as last_month,
        {{ as_of_date() }} as as_of_date

),

months as (

    select
        cast(m.month_start as date) as month,
        bounds.last_month,
        bounds.as_of_date
    from bounds
    cross join lateral generate_series(
        bounds.first_month, bounds.last_month, interval '1 month'
    ) as m (month_start)

),

final as (

    select
        month,
        cast(month + interval '1 month' - interval '1 day' as date) as month_end,
        least(cast(month + interval '1 month' - interval '1 day' as date), as_of_date) as period_end,
        month = last_month as is_current_month,
        as_of_date
    from months

)

select * from final
