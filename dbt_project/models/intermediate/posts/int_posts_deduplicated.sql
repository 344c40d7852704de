{#
    One row per platform + post from every occurrence up to the report date.
    Attributes come from the latest occurrence (an edited text wins);
    found_via aggregates every stream that found the post in any run:
    'timeline', 'search' or 'timeline+search' (a post seen only by the
    metric-refresh lookup or only on a company timeline gets null).
    Deleted: the post's lookup reported it not found (error_kind
    'not_found', the platform's documented answer for a deleted post) on a
    day after the last day any stream returned it (deleted_on = that first
    day); a refused lookup (not_authorized, other) is not a deletion; a post
    seen again later is not deleted.
    Incremental (macros/incremental.sql): a night recomputes the posts seen
    or reported missing on the days it rebuilds and the posts whose
    occurrences reached into those days; delete+insert by platform + post_id.
    When the window starts at the previous build's report date or after it
    (a night, or a rerun of the last night: window_merge_from), a post seen
    from that day on is merged: its occurrences before it as the previous
    build counted them (all of them, or those before its report date:
    prefix_*) plus the ones read again from that day on; the attributes come
    from the latest of those. Any other post of the night (missing-post
    errors only, occurrences gone, no prefix_* yet) and any other window (a
    backfill or replay of older days) is recomputed from all its occurrences.
#}
{{ incremental_by_post_config(
    indexes=[{'columns': ['platform', 'post_id']}],
    post_hook=["{{ fill_normalised_text() }}"]
) }}
{%- set w = incremental_window() %}
{%- set merge_from = window_merge_from(w) %}
{%- if merge_from and execute
    and 'prefix_occurrences' not in (adapter.get_columns_in_relation(this) | map(attribute='name') | list) %}
    {#- built before the prefix_* columns: this night recomputes its posts whole (and adds them) -#}
    {%- set merge_from = none %}
{%- endif %}
with
{% if not w['full'] %}
affected as (

    -- seen or reported missing on a window day, or last seen on / after its first day
    {{- affected_posts(w, [
        (ref('int_posts_unioned'), 'snapshot_day'), (ref('int_post_errors_unioned'), 'snapshot_day')
    ], this_day_column='last_seen_day') }}

),
{% endif %}
{%- if merge_from %}
window_occurrences as (

    -- every occurrence from merge_from on (the days before it are as the previous build read them)
    select *
    from {{ ref('int_posts_unioned') }}
    where snapshot_day >= {{ merge_from }}

),

window_seen as (

    {{ post_occurrence_stats('window_occurrences') }}

),

stored as (

    -- the previous build's count of each such post's occurrences before merge_from: all of them
    -- when it was last seen before that day, else those before its report date (= merge_from,
    -- a rerun of its night); null when it has no prefix_* yet (built before they existed)
    select
        prior.platform,
        prior.post_id,
        case
            when prior.last_seen_day < {{ merge_from }} then prior.occurrences
            else prior.prefix_occurrences
        end as occurrences,
        case
            when prior.last_seen_day < {{ merge_from }} then prior.found_via in ('timeline', 'timeline+search')
            else prior.prefix_in_timeline
        end as in_timeline,
        case
            when prior.last_seen_day < {{ merge_from }} then prior.found_via in ('search', 'timeline+search')
            else prior.prefix_in_search
        end as in_search,
        prior.first_seen_day
    from {{ this }} as prior
    inner join window_seen
        on prior.platform = window_seen.platform
        and prior.post_id = window_seen.post_id

),

full_posts as (

    -- recomputed from all their occurrences: the night's posts without an occurrence from
    -- merge_from on, and those whose previous count is unknown
    select platform, post_id from affected
    except
    select platform, post_id from window_seen
    union
    select platform, post_id from stored where occurrences is null

),

full_occurrences as (

    {{ occurrences_of('full_posts') }}

),

occurrences as (

    -- the occurrences the latest one is taken from
    select window_occurrences.*
    from window_occurrences
    where not exists (
        select 1
        from full_posts
        where full_posts.platform = window_occurrences.platform
            and full_posts.post_id = window_occurrences.post_id
    )
    union all
    select * from full_occurrences

),

seen as (

    {{ post_occurrence_stats('full_occurrences') }}
    union all
    select
        window_seen.platform,
        window_seen.post_id,
        case when stored.occurrences > 0 then stored.first_seen_day else window_seen.first_seen_day end
            as first_seen_day,
        window_seen.last_seen_day,
        coalesce(stored.occurrences, 0) + window_seen.occurrences as occurrences,
        coalesce(stored.occurrences, 0) + window_seen.prefix_occurrences as prefix_occurrences,
        coalesce(stored.in_timeline, false) or window_seen.in_timeline as in_timeline,
        coalesce(stored.in_timeline, false) or window_seen.prefix_in_timeline as prefix_in_timeline,
        coalesce(stored.in_search, false) or window_seen.in_search as in_search,
        coalesce(stored.in_search, false) or window_seen.prefix_in_search as prefix_in_search
    from window_seen
    left join stored
        on window_seen.platform = stored.platform
        and window_seen.post_id = stored.post_id
    where not exists (
        select 1
        from full_posts
        where full_posts.platform = window_seen.platform
            and full_posts.post_id = window_seen.post_id
    )

),
{%- else %}
    occurrences as (

        select occ.*
        from {{ ref('int_posts_unioned') }} as occ
        {%- if not w['full'] %}
    inner join affected
        on occ.platform = affected.platform
        and occ.post_id = affected.post_id
    {%- endif %}

    ),

    seen as (

        {{ post_occurrence_stats('occurrences') }}

    ),
{%- endif %}

latest as (

    select distinct on (platform, post_id) *
    from occurrences
    order by
        platform asc, post_id asc,
        snapshot_day desc, extracted_at desc, source_file desc, source_line desc

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
        -- only the platform's documented "not found" answer is a deletion: a refused lookup
        -- (a permission or token error, a suspended author) keeps the post and its counters
        and errors.error_kind = 'not_found'
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
        company_posts.post_id is not null as is_company_post,
        seen.prefix_occurrences,
        seen.prefix_in_timeline,
        seen.prefix_in_search,
        -- for int_posts_classified's suggested-copy match: the regexes run once per changed post
        -- here instead of over every post each night there
        {{ normalise_text('latest.post_text') }} as normalised_text
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
