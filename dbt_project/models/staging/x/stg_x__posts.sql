{#
    One row per tweet occurrence in raw (every run that saw it, every stream),
    in the platform-neutral post columns (macro platform_columns('posts')).
    Deduplication and classification happen in intermediate.
#}
with

source as (

    select * from {{ source('x', 'tweets') }}

),

referenced as (

    -- the retweeted / quoted / replied-to post of each occurrence, with its
    -- author when the connector resolved it from the response's includes
    select
        source._landing_file,
        source._line_no,
        max(refs.ref ->> 'id') filter (where refs.ref ->> 'type' = 'retweeted') as retweeted_id,
        max(refs.ref ->> 'id') filter (where refs.ref ->> 'type' = 'quoted') as quoted_id,
        max(refs.ref ->> 'id') filter (where refs.ref ->> 'type' = 'replied_to') as replied_to_id,
        max(authors.ref ->> 'author_username') filter (where authors.ref ->> 'type' = 'retweeted')
            as retweeted_author,
        max(authors.ref ->> 'author_username') filter (where authors.ref ->> 'type' = 'quoted')
            as quoted_author,
        max(authors.ref ->> 'author_username') filter (where authors.ref ->> 'type' = 'replied_to')
            as replied_to_author,
        -- X prints a retweet as "RT @author: ..." even when includes lack the author
        max(substring(source.record ->> 'text' from '^RT @([A-Za-z0-9_]+):')) as retweet_text_author
    from source
    -- functions in from are lateral: they read the row of `source`
    cross join
        jsonb_array_elements(
            {{ jsonb_array_or_empty("source.record -> 'referenced_tweets'") }}
        ) as refs (ref)
    left join
        jsonb_array_elements(
            {{ jsonb_array_or_empty("source.record -> '_referenced'") }}
        ) as authors (ref)
        on refs.ref ->> 'id' = authors.ref ->> 'id' and refs.ref ->> 'type' = authors.ref ->> 'type'
    group by source._landing_file, source._line_no

),

renamed as (

    select
        ----------  ids
        'x' as platform,
        source.record ->> 'id' as post_id,
        source.record ->> 'author_id' as author_platform_user_id,
        lower(nullif(source.record ->> '_author_username', '')) as author_username,

        ----------  content
        cast(source.record ->> 'created_at' as timestamptz) as created_at,
        source.record ->> 'text' as post_text,
        case
            when referenced.retweeted_id is not null then 'reshare'
            when referenced.quoted_id is not null then 'quote'
            when referenced.replied_to_id is not null then 'reply'
            else 'original'
        end as post_type,
        coalesce(referenced.retweeted_id, referenced.quoted_id, referenced.replied_to_id)
            as referenced_post_id,
        lower(
            case
                when referenced.retweeted_id is not null
                    then coalesce(referenced.retweeted_author, referenced.retweet_text_author)
                when referenced.quoted_id is not null then referenced.quoted_author
                else referenced.replied_to_author
            end
        ) as referenced_author_username,

        ----------  entities (lowercase; empty array when absent)
        {{ jsonb_items("source.record -> 'entities' -> 'hashtags'", "'#' || lower(item ->> 'tag')") }} as hashtags,
        {{ jsonb_items("source.record -> 'entities' -> 'mentions'", "lower(item ->> 'username')") }} as mentions,
        {{ jsonb_items(
            "source.record -> 'entities' -> 'urls'",
            "coalesce(item ->> 'unwound_url', item ->> 'expanded_url', item ->> 'url')"
        ) }} as urls,

        ----------  how the connector found it
        source.record ->> '_found_via' as found_via,
        {{ jsonb_items("source.record -> '_also_found_via'", "item #>> '{}'") }} as also_found_via,

        ----------  lineage
        source._interval_start as snapshot_day,
        source._extracted_at as extracted_at,
        source._landing_file as source_file,
        source._line_no as source_line

    from source
    left join referenced
        on source._landing_file = referenced._landing_file
        and source._line_no = referenced._line_no

)

select * from renamed
