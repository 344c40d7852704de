-- The scorecard repeats the 'ALL' rows of the KPI marts: any month where it
-- disagrees with them is a failure.
select scorecard.month
from {{ ref('kpi_programme_scorecard_monthly') }} as scorecard
left join {{ ref('kpi_adoption_monthly') }} as adoption
    on scorecard.month = adoption.month and adoption.department = 'ALL'
left join {{ ref('kpi_engagement_monthly') }} as engagement
    on scorecard.month = engagement.month and engagement.platform = 'ALL'
left join {{ ref('kpi_reach_monthly') }} as reach
    on scorecard.month = reach.month and reach.platform = 'ALL'
left join {{ ref('kpi_referrals_monthly') }} as referrals
    on scorecard.month = referrals.month and referrals.platform = 'ALL'
where scorecard.invited is distinct from adoption.invited
    or scorecard.registered is distinct from adoption.registered
    or scorecard.active is distinct from adoption.active
    or scorecard.adoption_rate is distinct from adoption.adoption_rate
    or scorecard.activation_rate is distinct from adoption.activation_rate
    or scorecard.programme_posts is distinct from engagement.programme_posts
    or scorecard.interactions is distinct from engagement.interactions
    or scorecard.engagement_rate is distinct from engagement.engagement_rate
    or scorecard.potential_reach is distinct from reach.potential_reach
    or scorecard.referral_sessions is distinct from referrals.sessions
    or scorecard.referral_conversions is distinct from referrals.conversions
