{#
    The points leaderboard per month: every roster employee with >= 1
    programme post (self-reported ones included) or >= 1 referral session in
    the month.
    points = programme_posts * w.programme_post + likes * w.like + comments *
    w.comment + shares_received * w.share_received + referral_sessions *
    w.referral_session + conversions * w.conversion, weights from
    var('leaderboard_weights') (macro leaderboard_weight; defaults 10 / 1 / 3
    / 5 / 2 / 20). likes / comments / shares_received are the APIs' credited
    counters of the month's programme posts (self-reported engagement earns
    no points: it cannot be checked); referral sessions / conversions are the
    employee's by utm_code (int_web_sessions).
    rank = rank() by points desc: ties share a rank (1, 1, 3); rows of a tie
    are ordered by employee_id (position, unique per month). Consent masking
    as in the top contributors: non-consenting employees keep rank, points
    and department with employee_id 'anonymous' and display_name null.
#}
with

employee_months as (

    select * from {{ ref('int_employee_months') }}

),

referrals as (

    select
        employee_id,
        month,
        count(*) as referral_sessions,
        sum(conversions) as conversions
    from {{ ref('int_web_sessions') }}
    where is_referral
        and employee_id is not null
    group by employee_id, month

),

scored as (

    select
        employee_months.month,
        employee_months.employee_id,
        employee_months.consent_public,
        employee_months.display_name,
        employee_months.department,
        employee_months.programme_posts,
        employee_months.likes,
        employee_months.comments,
        employee_months.shares_received,
        coalesce(referrals.referral_sessions, 0) as referral_sessions,
        coalesce(referrals.conversions, 0) as conversions
    from employee_months
    left join referrals
        on employee_months.employee_id = referrals.employee_id
        and employee_months.month = referrals.month
    where employee_months.programme_posts > 0
        or coalesce(referrals.referral_sessions, 0) > 0

),

pointed as (

    select
        *,
        programme_posts * {{ leaderboard_weight('programme_post') }}
        + likes * {{ leaderboard_weight('like') }}
        + comments * {{ leaderboard_weight('comment') }}
        + shares_received * {{ leaderboard_weight('share_received') }}
        + referral_sessions * {{ leaderboard_weight('referral_session') }}
        + conversions * {{ leaderboard_weight('conversion') }} as points
    from scored

),

ranked as (

    select
        *,
        rank() over (partition by month order by points desc) as points_rank,
        row_number() over (partition by month order by points desc, employee_id asc) as position
    from pointed

),

final as (

    select
        cast(month as date) as month,
        cast(points_rank as bigint) as rank,
        cast(case when consent_public then employee_id else 'anonymous' end as text) as employee_id,
        cast(case when consent_public then display_name end as text) as display_name,
        cast(department as text) as department,
        cast(points as numeric(14, 2)) as points,
        -- extras
        cast(position as bigint) as position,
        cast(programme_posts as bigint) as programme_posts,
        cast(likes as bigint) as likes,
        cast(comments as bigint) as comments,
        cast(shares_received as bigint) as shares_received,
        cast(referral_sessions as bigint) as referral_sessions,
        cast(conversions as bigint) as conversions,
        cast(consent_public as boolean) as is_named
    from ranked

)

select * from final
