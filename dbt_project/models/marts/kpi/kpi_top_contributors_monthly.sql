{#
    Every employee with >= 1 programme post created in the month, ranked by
    interactions desc, programme_posts desc, then employee_id (so ranks are
    unique). Only consenting employees are named: the others keep their rank
    and department with employee_id 'anonymous' and display_name null.
    interactions and shares_received are credited counters (a pure reshare
    adds a programme post but no engagement); shares_received = retweets +
    quotes (+ shares) of the employee's programme posts, the monthly contest score.
    programme_posts includes counted self-reported posts (an employee with only
    self-reported posts is listed); interactions and shares_received are the
    platform APIs' numbers only - self-reported engagement is shown apart in
    self_reported_interactions and does not rank.
#}
with

contributors as (

    select * from {{ ref('int_employee_months') }}
    where programme_posts >= 1

),

ranked as (

    select
        *,
        row_number() over (
            partition by month
            order by interactions desc, programme_posts desc, employee_id asc
        ) as contributor_rank
    from contributors

),

final as (

    select
        cast(month as date) as month,
        cast(contributor_rank as bigint) as rank,
        cast(case when consent_public then employee_id else 'anonymous' end as text) as employee_id,
        cast(case when consent_public then display_name end as text) as display_name,
        cast(department as text) as department,
        cast(programme_posts as bigint) as programme_posts,
        cast(interactions as bigint) as interactions,
        cast(shares_received as bigint) as shares_received,
        -- extras
        cast(likes as bigint) as likes,
        cast(comments as bigint) as comments,
        cast(pure_reshares as bigint) as pure_reshares,
        cast(consent_public as boolean) as is_named,
        cast(self_reported_posts as bigint) as self_reported_posts,
        cast(self_reported_interactions as bigint) as self_reported_interactions
    from ranked

)

select * from final
