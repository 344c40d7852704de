{#
    Every post by someone other than the company accounts, found by a timeline
    or a search, with its author resolved to an employee and classified per
    docs/metrics.md:
    - markers: a programme hashtag (var hashtags), a mention of a company
      handle, a link to a company domain (or a subdomain), a reshare / quote
      of a company account's post;
    - advocate at post time: the author's employee has registered_at on or
      before the post's UTC date and had not left before it;
    - programme post: by an advocate at post time AND (a marker OR found by
      the programme search);
    - community post: author not an employee (in the roster as of the report
      date) and found by the programme search; never credited to anyone;
    - pure reshare: a retweet / share without own words;
    - personalised: an original, quote or reply whose normalised text
      (int_suggested_copy) is not empty and is not a suggested copy verbatim.
    Employee posts without a marker (off-topic) stay, as neither programme
    nor community posts. The entity arrays stay in int_posts_deduplicated
    (the markers here say what counted).
#}
with

posts as (

    select *
    from {{ ref('int_posts_deduplicated') }}
    where not is_company_post
        and found_via is not null

),

accounts as (

    select * from {{ ref('int_employee_accounts') }}

),

employees as (

    select
        employee_id,
        registered_at,
        left_at
    from {{ ref('int_employees') }}

),

company_handles as (

    select distinct
        h.platform,
        h.handle
    from {{ company_handles_values() }} as h (platform, handle)

),

company_posts as (

    select
        platform,
        post_id
    from {{ ref('int_company_posts') }}

),

suggested_copy as (

    select normalised_text from {{ ref('int_suggested_copy') }}

),

identified as (

    -- two equi-joins, one per kind of account key (a platform has one kind, a handle one
    -- employee), instead of one join on "username = handle or user_id = handle": the OR
    -- forced a nested loop over every post x every account
    select
        posts.*,
        coalesce(by_username.employee_id, by_user_id.employee_id) as employee_id,
        cast(posts.created_at at time zone 'UTC' as date) as created_date_utc,
        -- normalised in int_posts_deduplicated (a row built before that column: here)
        coalesce(posts.normalised_text, {{ normalise_text('posts.post_text') }}) as copy_text
    from posts
    left join accounts as by_username
        on posts.platform = by_username.platform
        and by_username.author_key = 'username'
        and posts.author_username = by_username.handle
    left join accounts as by_user_id
        on posts.platform = by_user_id.platform
        and by_user_id.author_key = 'user_id'
        and posts.author_platform_user_id = by_user_id.handle

),

marked as (

    select
        identified.*,
        identified.hashtags && {{ programme_hashtags() }} as has_programme_hashtag,
        exists(
            select 1
            from company_handles
            where company_handles.platform = identified.platform
                and company_handles.handle = any(identified.mentions)
        ) as mentions_company,
        exists(
            select 1
            from unnest(identified.urls) as u (url)
            cross join unnest({{ company_domains() }}) as d (domain)
            where {{ url_host('u.url') }} = d.domain
                or right({{ url_host('u.url') }}, length(d.domain) + 1) = '.' || d.domain
        ) as links_company_domain,
        identified.post_type in ('reshare', 'quote')
        and (company_authors.handle is not null or company_posts.post_id is not null)
            as references_company_post,
        suggested_copy.normalised_text is not null as is_suggested_copy,
        coalesce(
            employees.registered_at <= identified.created_date_utc
            and (employees.left_at is null or identified.created_date_utc <= employees.left_at),
            false
        ) as is_advocate_at_post_time
    from identified
    left join employees
        on identified.employee_id = employees.employee_id
    left join company_handles as company_authors
        on identified.platform = company_authors.platform
        and identified.referenced_author_username = company_authors.handle
    left join company_posts
        on identified.platform = company_posts.platform
        and identified.referenced_post_id = company_posts.post_id
    left join suggested_copy
        on identified.copy_text = suggested_copy.normalised_text

),

final as (

    select
        platform,
        post_id,
        employee_id,
        author_platform_user_id,
        author_username,
        created_at,
        {{ local_date('created_at') }} as created_date,
        {{ local_month('created_at') }} as created_month,
        post_text,
        post_type,
        referenced_post_id,
        referenced_author_username,
        found_via,
        first_seen_day,
        last_seen_day,
        occurrences,
        is_deleted,
        deleted_on,
        has_programme_hashtag,
        mentions_company,
        links_company_domain,
        references_company_post,
        is_suggested_copy,
        is_advocate_at_post_time,
        is_advocate_at_post_time
        and (
            has_programme_hashtag or mentions_company or links_company_domain
            or references_company_post or found_via like '%search%'
        ) as is_programme_post,
        employee_id is null and found_via like '%search%' as is_community_post,
        post_type = 'reshare' as is_pure_reshare,
        post_type in ('original', 'quote', 'reply')
        and copy_text <> ''
        and not is_suggested_copy as is_personalised
    from marked

)

select * from final
