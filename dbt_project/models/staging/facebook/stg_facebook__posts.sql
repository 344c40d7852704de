{#
    One row per Facebook post occurrence in raw.facebook__posts (every run that
    saw it), in the platform-neutral post columns (macro platform_columns('posts')).
    Facebook names accounts by id (roster facebook_user_id, company Page ids in
    var company_handles), so the handle columns hold ids: author_username =
    the author's id, referenced_author_username = the shared post's owner id,
    mentions = the ids in message_tags. post_type: a share (parent_id) without
    message = reshare, with a message = quote; else original.
    found_via in the neutral vocabulary: page -> company_timeline,
    member_timeline -> timeline, page_tagged (posts tagging the Page, found
    without the author's token) -> search, lookup -> lookup.
#}
{%- set found_via_case -%}
    case $v when 'page' then 'company_timeline' when 'member_timeline' then 'timeline'
        when 'page_tagged' then 'search' else $v end
{%- endset %}
with

source as (

    select * from {{ source('facebook', 'posts') }}

),

renamed as (

    select
        ----------  ids
        'facebook' as platform,
        record ->> 'id' as post_id,
        -- the roster handle when the connector matched the author to an advocate
        coalesce(
            nullif(record ->> '_author_employee_handle', ''),
            record ->> '_author_id',
            record -> 'from' ->> 'id',
            split_part(record ->> 'id', '_', 1)
        ) as author_platform_user_id,
        lower(coalesce(
            nullif(record ->> '_author_employee_handle', ''),
            record ->> '_author_id',
            record -> 'from' ->> 'id',
            split_part(record ->> 'id', '_', 1)
        )) as author_username,

        ----------  content
        cast(
            regexp_replace(record ->> 'created_time', '([+-][0-9]{2})([0-9]{2})$', '\1:\2') as timestamptz
        ) as created_at,
        record ->> 'message' as post_text,
        case
            when record ->> 'parent_id' is not null and coalesce(btrim(record ->> 'message'), '') = ''
                then 'reshare'
            when record ->> 'parent_id' is not null then 'quote'
            else 'original'
        end as post_type,
        record ->> 'parent_id' as referenced_post_id,
        lower(nullif(split_part(record ->> 'parent_id', '_', 1), '')) as referenced_author_username,

        ----------  entities (connector annotations; lowercase; empty array when absent)
        {{ jsonb_items("record -> '_hashtags'", "'#' || ltrim(lower(item #>> '{}'), '#')") }} as hashtags,
        {{ jsonb_items("record -> 'message_tags'", "lower(item ->> 'id')") }} as mentions,
        {{ jsonb_items("record -> '_links'", "item #>> '{}'") }} as urls,

        ----------  how the connector found it
        {{ found_via_case | replace('$v', "record ->> '_found_via'") }} as found_via,
        {{ jsonb_items("record -> '_also_found_via'", found_via_case | replace('$v', "item #>> '{}'")) }}
            as also_found_via,

        ----------  lineage
        _interval_start as snapshot_day,
        _extracted_at as extracted_at,
        _landing_file as source_file,
        _line_no as source_line

    from source

)

select * from renamed
