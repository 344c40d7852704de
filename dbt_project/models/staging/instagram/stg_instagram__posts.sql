{#
    One row per Instagram media occurrence in raw.instagram__media (every run
    that saw it), in the platform-neutral post columns (macro
    platform_columns('posts')). Every media is an original (Instagram has no
    reshares; comments are not media). The author is the roster
    instagram_username the connector matched (`_author_employee_handle`), else
    the username business discovery or the company listing gave; hashtag-only
    media have no author (the API does not say who posted them: community
    posts). Media objects carry no owner id: author_platform_user_id is null.
    mentions = @usernames in the caption, plus the company handles (business
    account ids, var company_handles) when the connector found a company
    mention (`_mentions_company`), since captions name accounts by username.
    found_via in the neutral vocabulary: company_media -> company_timeline,
    business_discovery -> timeline, hashtag -> search.
#}
{%- set found_via_case -%}
    case $v when 'company_media' then 'company_timeline' when 'business_discovery' then 'timeline'
        when 'hashtag' then 'search' else $v end
{%- endset %}
with

source as (

    select * from {{ source('instagram', 'media') }}

),

company_handles as (

    -- the business account ids of var company_handles (empty array when none)
    select coalesce(array_agg(h.handle), cast(array[] as text[])) as handles
    from {{ company_handles_values() }} as h (platform, handle)
    where h.platform = 'instagram'

),

mentioned as (

    -- @usernames written in the caption
    select
        source._landing_file,
        source._line_no,
        array_agg(distinct lower(matches.m[1])) as usernames
    from source
    cross join regexp_matches(coalesce(source.record ->> 'caption', ''), '@([A-Za-z0-9_.]+)', 'g') as matches (m)
    group by source._landing_file, source._line_no

),

renamed as (

    select
        ----------  ids
        'instagram' as platform,
        source.record ->> 'id' as post_id,
        cast(null as text) as author_platform_user_id,
        lower(ltrim(coalesce(
            nullif(source.record ->> '_author_employee_handle', ''),
            nullif(source.record ->> '_author_username', ''),
            nullif(source.record ->> 'username', '')
        ), '@')) as author_username,

        ----------  content
        cast(
            regexp_replace(source.record ->> 'timestamp', '([+-][0-9]{2})([0-9]{2})$', '\1:\2') as timestamptz
        ) as created_at,
        source.record ->> 'caption' as post_text,
        'original' as post_type,
        cast(null as text) as referenced_post_id,
        cast(null as text) as referenced_author_username,

        ----------  entities (lowercase; empty array when absent)
        {{ jsonb_items("source.record -> '_hashtags'", "'#' || ltrim(lower(item #>> '{}'), '#')") }} as hashtags,
        coalesce(mentioned.usernames, cast(array[] as text[]))
        || case
            when coalesce(cast(source.record ->> '_mentions_company' as boolean), false)
                then company_handles.handles
            else cast(array[] as text[])
        end as mentions,
        {{ jsonb_items("source.record -> '_links'", "item #>> '{}'") }} as urls,

        ----------  how the connector found it
        {{ found_via_case | replace('$v', "source.record ->> '_found_via'") }} as found_via,
        {{ jsonb_items("source.record -> '_also_found_via'", found_via_case | replace('$v', "item #>> '{}'")) }}
            as also_found_via,

        ----------  lineage
        source._interval_start as snapshot_day,
        source._extracted_at as extracted_at,
        source._landing_file as source_file,
        source._line_no as source_line

    from source
    cross join company_handles
    left join mentioned
        on source._landing_file = mentioned._landing_file
        and source._line_no = mentioned._line_no

)

select * from renamed
