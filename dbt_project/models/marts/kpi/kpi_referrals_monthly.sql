{#
    Referral traffic per month and platform (macro social_platforms, 'other' =
    any other or empty utm_source) plus 'ALL'.
    - sessions / conversions: referral sessions (utm_medium = var('utm_medium'))
      started in the month (programme time zone) and their conversions;
    - baseline_sessions: mean monthly sessions with utm_source on that social
      platform ('ALL': on any social platform), any medium, over the
      var('baseline_months') calendar months before the programme start
      month (months without sessions count as 0); null for 'other' (not a
      social platform) and when baseline_months is 0;
    - lift = sessions / baseline_sessions - 1 (from the unrounded baseline);
      null when the baseline is 0 or null.
#}
{%- set baseline_months = var('baseline_months', 3) | int %}
with

months as (

    select month from {{ ref('int_months') }}

),

groups as (

    select g.platform from (
        values
        {%- for p in social_platforms() %}
            ('{{ p }}'),
        {%- endfor %}
        ('other'),
        ('ALL')
    ) as g (platform)

),

sessions as (

    select * from {{ ref('int_web_sessions') }}

),

referrals as (

    select
        month,
        coalesce(platform, 'ALL') as platform,
        count(*) as sessions,
        sum(conversions) as conversions
    from sessions
    where is_referral
    group by grouping sets ((month, platform), (month))

),

baseline_window as (

    select
        cast(date_trunc('month', {{ programme_start_date() }}) - interval '{{ baseline_months }} months' as date)
            as first_month,
        cast(date_trunc('month', {{ programme_start_date() }}) as date) as programme_month

),

baseline as (

    select
        groups.platform,
        case
            when groups.platform = 'other' or {{ baseline_months }} <= 0 then null
            else cast(count(sessions.session_id) as numeric) / nullif({{ baseline_months }}, 0)
        end as baseline_sessions
    from groups
    cross join baseline_window
    left join sessions
        on baseline_window.first_month <= sessions.month
        and baseline_window.programme_month > sessions.month
        and sessions.platform <> 'other'
        and (groups.platform = 'ALL' or groups.platform = sessions.platform)
    group by groups.platform

),

joined as (

    select
        months.month,
        groups.platform,
        coalesce(referrals.sessions, 0) as sessions,
        coalesce(referrals.conversions, 0) as conversions,
        baseline.baseline_sessions
    from months
    cross join groups
    left join referrals
        on months.month = referrals.month
        and groups.platform = referrals.platform
    left join baseline
        on groups.platform = baseline.platform

),

final as (

    select
        cast(month as date) as month,
        cast(platform as text) as platform,
        cast(sessions as bigint) as sessions,
        cast(conversions as bigint) as conversions,
        cast(round(baseline_sessions, 2) as numeric(14, 2)) as baseline_sessions,
        cast(round({{ safe_divide('sessions', 'baseline_sessions') }} - 1, 4) as numeric(12, 4)) as lift,
        -- extras
        cast(round({{ safe_divide('conversions', 'sessions') }}, 4) as numeric(12, 4)) as conversion_rate
    from joined

)

select * from final
