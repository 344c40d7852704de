{#
    Posts of the company's own accounts, on every enabled platform: an author
    listed in var('company_handles') for the platform, an account the
    connector marked role = 'company', or a post found on a company timeline.
    They are the suggested copy and the targets of advocates' reshares; they
    are never advocacy posts themselves (not in fct_posts).
#}
{{ incremental_by_post_config() }}
{%- set w = incremental_window() %}
with

audience as (

    select * from {{ ref('int_audience_unioned') }}

),

company_handles as (

    select
        h.platform,
        h.handle
    from {{ company_handles_values() }} as h (platform, handle)

),

company_users as (

    select distinct
        audience.platform,
        audience.platform_user_id
    from audience
    left join company_handles
        on audience.platform = company_handles.platform
        and audience.username = company_handles.handle
    where audience.role = 'company' or company_handles.handle is not null

),
{%- if not w['full'] %}

window_posts as (

    select *
    from {{ ref('int_posts_unioned') }}
    where {{ in_incremental_window('snapshot_day', w) }}

),

candidates as (

    -- incremental (macros/incremental.sql): the posts seen on the days the night rebuilds that
    -- are company posts already or that an occurrence of those days shows as one (a company
    -- post stays one, and an older occurrence that showed it made it one on its own night),
    -- so only their occurrences are read again, not those of every post of the night
    select window_posts.platform, window_posts.post_id
    from window_posts
    left join company_handles
        on window_posts.platform = company_handles.platform
        and window_posts.author_username = company_handles.handle
    left join company_users
        on window_posts.platform = company_users.platform
        and window_posts.author_platform_user_id = company_users.platform_user_id
    where company_handles.handle is not null
        or company_users.platform_user_id is not null
        or window_posts.found_via = 'company_timeline'
        or 'company_timeline' = any(window_posts.also_found_via)
    union
    select prior.platform, prior.post_id
    from {{ this }} as prior
    inner join window_posts
        on prior.platform = window_posts.platform
        and prior.post_id = window_posts.post_id

),
{%- endif %}

posts as (

    -- every occurrence (of the candidates on a night: a few, read by index)
    {%- if not w['full'] %}
    {{ occurrences_of('candidates') }}
    {%- else %}
        select occ.*
        from {{ ref('int_posts_unioned') }} as occ
    {%- endif %}

),

company_post_ids as (

    select distinct
        posts.platform,
        posts.post_id
    from posts
    left join company_handles
        on posts.platform = company_handles.platform
        and posts.author_username = company_handles.handle
    left join company_users
        on posts.platform = company_users.platform
        and posts.author_platform_user_id = company_users.platform_user_id
    where company_handles.handle is not null
        or company_users.platform_user_id is not null
        or posts.found_via = 'company_timeline'
        or 'company_timeline' = any(posts.also_found_via)

),

latest as (

    select distinct on (posts.platform, posts.post_id)
        posts.platform,
        posts.post_id,
        posts.author_platform_user_id,
        posts.author_username,
        posts.created_at,
        posts.post_text,
        posts.post_type
    from posts
    inner join company_post_ids
        on posts.platform = company_post_ids.platform
        and posts.post_id = company_post_ids.post_id
    order by
        posts.platform asc, posts.post_id asc,
        posts.snapshot_day desc, posts.extracted_at desc, posts.source_file desc, posts.source_line desc

)

select * from latest
