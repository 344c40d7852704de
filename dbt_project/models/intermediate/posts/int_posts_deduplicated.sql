{#
    One row per platform + post from every occurrence up to the report date.
    Attributes come from the latest occurrence (an edited text wins);
    found_via aggregates every stream that found the post in any run:
    'timeline', 'search' or 'timeline+search' (a post seen only by the
    metric-refresh lookup or only on a company timeline gets null).
    Deleted: the post's lookup reported it missing on a day after the last
    day any stream returned it (deleted_on = that first day); a post seen
    again later is not deleted.
    Incremental (macros/incremental.sql): a night recomputes, from all their
    occurrences, the posts seen or reported missing on the days it rebuilds
    and the posts whose occurrences reached into those days; delete+insert by
    platform + post_id.
#}
{{ incremental_by_post_config() }}
{%- set w = incremental_window() %}
with
{% if not w['full'] %}
affected as (

    -- seen or reported missing on a window day, or last seen on / after its first day
    {{- affected_posts(w, [
        (ref('int_posts_unioned'), 'snapshot_day'), (ref('int_post_errors_unioned'), 'snapshot_day')
    ], this_day_column='last_seen_day') }}

),
{% endif %}
occurrences as (

    select occ.*
    from {{ ref('int_posts_unioned') }} as occ
    {%- if not w['full'] %}
    inner join affected
        on occ.platform = affected.platform
        and occ.post_id = affected.post_id
    {%- endif %}

),

latest as (

    select distinct on (platform, post_id) *
    from occurrences
    order by
        platform asc, post_id asc,
        snapshot_day desc, extracted_at desc, source_file desc, source_line desc

),

seen as (

    select
        platform,
        post_id,
        min(snapshot_day) as first_seen_day,
        max(snapshot_day) as last_seen_day,
        count(*) as occurrences,
        bool_or(found_via = 'timeline' or 'timeline' = any(also_found_via)) as in_timeline,
        bool_or(found_via = 'search' or 'search' = any(also_found_via)) as in_search
    from occurrences
    group by platform, post_id

),

deletions as (

    select
        seen.platform,
        seen.post_id,
        min(errors.snapshot_day) as deleted_on
    from seen
    inner join {{ ref('int_post_errors_unioned') }} as errors
        on seen.platform = errors.platform
        and seen.post_id = errors.post_id
        and seen.last_seen_day < errors.snapshot_day
    group by seen.platform, seen.post_id

),

usernames as (

    select distinct on (platform, platform_user_id)
        platform,
        platform_user_id,
        username
    from {{ ref('int_audience_unioned') }}
    where username is not null
        -- only read for posts whose occurrence lacks the author's username (the final coalesce):
        -- the advocates' daily user snapshots are most of the audience rows
        and platform_user_id in (
            select latest.author_platform_user_id
            from latest
            where latest.author_username is null
        )
    order by platform asc, platform_user_id asc, snapshot_day desc, extracted_at desc

),

company_posts as (

    select
        platform,
        post_id
    from {{ ref('int_company_posts') }}

),

final as (

    select
        latest.platform,
        latest.post_id,
        latest.author_platform_user_id,
        coalesce(latest.author_username, usernames.username) as author_username,
        latest.created_at,
        latest.post_text,
        latest.post_type,
        latest.referenced_post_id,
        latest.referenced_author_username,
        latest.hashtags,
        latest.mentions,
        latest.urls,
        case
            when seen.in_timeline and seen.in_search then 'timeline+search'
            when seen.in_timeline then 'timeline'
            when seen.in_search then 'search'
        end as found_via,
        seen.first_seen_day,
        seen.last_seen_day,
        seen.occurrences,
        deletions.deleted_on is not null as is_deleted,
        deletions.deleted_on,
        company_posts.post_id is not null as is_company_post
    from latest
    inner join seen
        on latest.platform = seen.platform
        and latest.post_id = seen.post_id
    left join deletions
        on latest.platform = deletions.platform
        and latest.post_id = deletions.post_id
    left join usernames
        on latest.platform = usernames.platform
        and latest.author_platform_user_id = usernames.platform_user_id
    left join company_posts
        on latest.platform = company_posts.platform
        and latest.post_id = company_posts.post_id

)

select * from final
