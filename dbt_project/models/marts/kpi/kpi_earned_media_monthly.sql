{#
    Earned media value per month and social platform (macro social_platforms:
    the registry's always-reported platforms and any other enabled) plus 'ALL': what the programme's organic reach would have cost
    as paid media.
    - impressions: impressions of the programme posts created in the month
      (kpi_reach_monthly; null for a platform not enabled or whose posts have
      no impressions);
    - referral_sessions: kpi_referrals_monthly sessions of the platform;
    - cpm / cpc: seed media_rates (example rates unless edited);
    - earned_media_value = coalesce(impressions, 0) / 1000 * cpm +
      referral_sessions * cpc, 2 decimals; null when the platform has no cpm
      or no cpc (never 0 for a missing rate);
    - 'ALL': impressions and referral_sessions summed over the platform rows,
      earned_media_value = sum of the non-null platform values (null when all
      are null); cpm / cpc null (no blended rate).
#}
with

months as (

    select month from {{ ref('int_months') }}

),

platforms as (

    select g.platform from (
        values
        {%- for p in social_platforms() %}
            ('{{ p }}'){{ ',' if not loop.last }}
        {%- endfor %}
    ) as g (platform)

),

rates as (

    select
        platform,
        cpm,
        cpc
    from {{ ref('media_rates') }}

),

reach as (

    select
        month,
        platform,
        impressions
    from {{ ref('kpi_reach_monthly') }}

),

referrals as (

    select
        month,
        platform,
        sessions
    from {{ ref('kpi_referrals_monthly') }}

),

platform_rows as (

    select
        months.month,
        platforms.platform,
        reach.impressions,
        coalesce(referrals.sessions, 0) as referral_sessions,
        rates.cpm,
        rates.cpc,
        round(
            coalesce(reach.impressions, 0) / 1000.0 * rates.cpm
            + coalesce(referrals.sessions, 0) * rates.cpc, 2
        ) as earned_media_value
    from months
    cross join platforms
    left join reach
        on months.month = reach.month
        and platforms.platform = reach.platform
    left join referrals
        on months.month = referrals.month
        and platforms.platform = referrals.platform
    left join rates
        on platforms.platform = rates.platform

),

all_rows as (

    select
        month,
        'ALL' as platform,
        sum(impressions) as impressions,
        sum(referral_sessions) as referral_sessions,
        cast(null as numeric) as cpm,
        cast(null as numeric) as cpc,
        sum(earned_media_value) as earned_media_value
    from platform_rows
    group by month

),

unioned as (

    select * from platform_rows
    union all
    select * from all_rows

),

final as (

    select
        cast(month as date) as month,
        cast(platform as text) as platform,
        cast(impressions as bigint) as impressions,
        cast(referral_sessions as bigint) as referral_sessions,
        cast(cpm as numeric(12, 4)) as cpm,
        cast(cpc as numeric(12, 4)) as cpc,
        cast(earned_media_value as numeric(14, 2)) as earned_media_value
    from unioned

)

select * from final
