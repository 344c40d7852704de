{#
    One row per Bluesky post or repost occurrence in raw (every run that saw
    it), in the platform-neutral post columns (macro platform_columns('posts')).
    A repost (no own words) is a 'reshare' of the post it reposts; a quote post
    a 'quote'; a reply a 'reply' of its parent.
#}
with

source as (

    select * from {{ source('bluesky', 'posts') }}

),

renamed as (

    select
        ----------  ids
        'bluesky' as platform,
        record ->> 'uri' as post_id,
        record -> 'author' ->> 'did' as author_platform_user_id,
        lower(nullif(coalesce(record ->> '_author_handle', record -> 'author' ->> 'handle'), ''))
            as author_username,

        ----------  content
        cast(record ->> '_created_at' as timestamptz) as created_at,
        record -> 'record' ->> 'text' as post_text,
        case record ->> '_post_type'
            when 'repost' then 'reshare'
            when 'quote' then 'quote'
            when 'reply' then 'reply'
            else 'original'
        end as post_type,
        coalesce(record ->> '_reshare_of', record -> 'record' -> 'reply' -> 'parent' ->> 'uri')
            as referenced_post_id,
        lower(nullif(record ->> '_reshare_of_author', '')) as referenced_author_username,

        ----------  entities (lowercase; empty array when absent)
        {{ jsonb_items("record -> '_hashtags'", "'#' || lower(item #>> '{}')") }} as hashtags,
        {{ jsonb_items("record -> '_mention_handles'", "lower(item #>> '{}')") }} as mentions,
        {{ jsonb_items("record -> '_links'", "item #>> '{}'") }} as urls,

        ----------  how the connector found it
        record ->> '_found_via' as found_via,
        {{ jsonb_items("record -> '_also_found_via'", "item #>> '{}'") }} as also_found_via,

        ----------  lineage
        _interval_start as snapshot_day,
        _extracted_at as extracted_at,
        _landing_file as source_file,
        _line_no as source_line

    from source

)

select * from renamed
