{#
    Referral sessions (utm_medium = var('utm_medium')) per month, utm_campaign
    (lowercase; '(none)' when empty) and platform (as in kpi_referrals_monthly),
    only combinations with at least one session.
#}
with

sessions as (

    select * from {{ ref('int_web_sessions') }}
    where is_referral
        and month in (select m.month from {{ ref('int_months') }} as m)

),

final as (

    select
        cast(month as date) as month,
        cast(coalesce(utm_campaign, '(none)') as text) as campaign,
        cast(platform as text) as platform,
        cast(count(*) as bigint) as sessions,
        cast(sum(conversions) as bigint) as conversions,
        cast(count(employee_id) as bigint) as attributed_sessions
    from sessions
    group by month, coalesce(utm_campaign, '(none)'), platform

)

select * from final
