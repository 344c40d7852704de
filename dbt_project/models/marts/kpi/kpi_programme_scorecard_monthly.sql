{#
    The programme's headline numbers, one row per month, from the 'ALL' rows
    of kpi_adoption_monthly, kpi_engagement_monthly and kpi_reach_monthly,
    plus community posts (fct_posts, by creation month). *_mom = this month's
    rate minus the previous month's (a difference of rates, in rate units;
    null in the first month or when either rate is null).
    referral_sessions / referral_conversions: the 'ALL' row of
    kpi_referrals_monthly (0 in a month without referral sessions, also when
    no sessions file is configured).
#}
with

months as (

    select month from {{ ref('int_months') }}

),

adoption as (

    select * from {{ ref('kpi_adoption_monthly') }}
    where department = 'ALL'

),

engagement as (

    select * from {{ ref('kpi_engagement_monthly') }}
    where platform = 'ALL'

),

reach as (

    select * from {{ ref('kpi_reach_monthly') }}
    where platform = 'ALL'

),

referrals as (

    select * from {{ ref('kpi_referrals_monthly') }}
    where platform = 'ALL'

),

community as (

    select
        created_month as month,
        count(*) as community_posts
    from {{ ref('fct_posts') }}
    where is_community_post
    group by created_month

),

joined as (

    select
        months.month,
        adoption.invited,
        adoption.registered,
        adoption.active,
        adoption.adoption_rate,
        adoption.activation_rate,
        coalesce(engagement.programme_posts, 0) as programme_posts,
        coalesce(community.community_posts, 0) as community_posts,
        coalesce(engagement.interactions, 0) as interactions,
        reach.potential_reach,
        engagement.engagement_rate,
        engagement.engagement_rate_basis,
        engagement.personalised_uplift,
        referrals.sessions as referral_sessions,
        referrals.conversions as referral_conversions,
        referrals.lift as referral_lift
    from months
    left join adoption on months.month = adoption.month
    left join engagement on months.month = engagement.month
    left join reach on months.month = reach.month
    left join community on months.month = community.month
    left join referrals on months.month = referrals.month

),

final as (

    select
        cast(month as date) as month,
        cast(invited as bigint) as invited,
        cast(registered as bigint) as registered,
        cast(active as bigint) as active,
        cast(adoption_rate as numeric(12, 4)) as adoption_rate,
        cast(activation_rate as numeric(12, 4)) as activation_rate,
        cast(programme_posts as bigint) as programme_posts,
        cast(community_posts as bigint) as community_posts,
        cast(interactions as bigint) as interactions,
        cast(potential_reach as bigint) as potential_reach,
        cast(engagement_rate as numeric(12, 4)) as engagement_rate,
        cast(referral_sessions as bigint) as referral_sessions,
        cast(referral_conversions as bigint) as referral_conversions,
        cast(adoption_rate - lag(adoption_rate) over by_month as numeric(12, 4)) as adoption_rate_mom,
        cast(activation_rate - lag(activation_rate) over by_month as numeric(12, 4)) as activation_rate_mom,
        cast(engagement_rate - lag(engagement_rate) over by_month as numeric(12, 4)) as engagement_rate_mom,
        -- extras
        cast(engagement_rate_basis as text) as engagement_rate_basis,
        cast(personalised_uplift as numeric(12, 4)) as personalised_uplift,
        cast(referral_lift as numeric(12, 4)) as referral_lift
    from joined
    window by_month as (order by month)

)

select * from final
