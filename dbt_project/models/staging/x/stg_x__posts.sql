{#
    One row per tweet occurrence in raw (every run that saw it, every stream),
    in the platform-neutral post columns (macro platform_columns('posts')).
    Deduplication and classification happen in intermediate.
#}
with

source as (

    -- a repeated snapshot is stored once (advocacy.load.REPEAT_STREAMS); each row reads as landed
    {{ raw_records(source('x', 'tweets')) }}

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
    -- the retweeted / quoted / replied-to post of each occurrence, with its author when the
    -- connector resolved it from the response's includes; lateral (one raw row at a time),
    -- so a filter on the run day reaches the raw table's index
    left join lateral (
        select
            max(r.ref ->> 'id') filter (where r.ref ->> 'type' = 'retweeted') as retweeted_id,
            max(r.ref ->> 'id') filter (where r.ref ->> 'type' = 'quoted') as quoted_id,
            max(r.ref ->> 'id') filter (where r.ref ->> 'type' = 'replied_to') as replied_to_id,
            max(a.ref ->> 'author_username') filter (where a.ref ->> 'type' = 'retweeted')
                as retweeted_author,
            max(a.ref ->> 'author_username') filter (where a.ref ->> 'type' = 'quoted')
                as quoted_author,
            max(a.ref ->> 'author_username') filter (where a.ref ->> 'type' = 'replied_to')
                as replied_to_author,
            -- X prints a retweet as "RT @author: ..." even when includes lack the author (the
            -- filter names r so the aggregate is this level's, not the outer query's)
            max(substring(source.record ->> 'text' from '^RT @([A-Za-z0-9_]+):')) filter (where r.ref is not null)
                as retweet_text_author
        from
            jsonb_array_elements(
                {{ jsonb_array_or_empty("source.record -> 'referenced_tweets'") }}
            ) as r (ref)
        left join
            jsonb_array_elements(
                {{ jsonb_array_or_empty("source.record -> '_referenced'") }}
            ) as a (ref)
            on r.ref ->> 'id' = a.ref ->> 'id' and r.ref ->> 'type' = a.ref ->> 'type'
    ) as referenced on true

)

select * from renamed
