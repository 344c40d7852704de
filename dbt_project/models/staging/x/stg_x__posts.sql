{#
    One row per tweet occurrence in raw (every run that saw it, every stream),
    in the platform-neutral post columns (macro platform_columns('posts')).
    Deduplication and classification happen in intermediate.
#}
with

source as (

    select * from {{ source('x', 'tweets') }}

),

renamed as (

    select
        ----------  ids
        'x' as platform,
        record ->> 'id' as post_id,
        record ->> 'author_id' as author_platform_user_id,
        lower(nullif(record ->> '_author_username', '')) as author_username,

        ----------  content
        cast(record ->> 'created_at' as timestamptz) as created_at,
        record ->> 'text' as post_text,
        case
            when referenced.retweeted_id is not null then 'reshare'
            when referenced.quoted_id is not null then 'quote'
            when referenced.replied_to_id is not null then 'reply'
            else 'original'
        end as post_type,
        coalesce(referenced.retweeted_id, referenced.quoted_id, referenced.replied_to_id)
            as referenced_post_id,
        lower(coalesce(
            case
                when referenced.retweeted_id is not null then referenced.retweeted_author
                when referenced.quoted_id is not null then referenced.quoted_author
                else referenced.replied_to_author
            end,
            -- X prints a retweet as "RT @author: ..." even when includes lack the author
            case when referenced.retweeted_id is not null
                then substring(record ->> 'text' from '^RT @([A-Za-z0-9_]+):') end
        )) as referenced_author_username,

        ----------  entities (lowercase; empty array when absent)
        coalesce(array(
            select '#' || lower(h ->> 'tag')
            from jsonb_array_elements(
                case when jsonb_typeof(record -> 'entities' -> 'hashtags') = 'array'
                    then record -> 'entities' -> 'hashtags' else '[]'::jsonb end
            ) as h
        ), cast(array[] as text[])) as hashtags,
        coalesce(array(
            select lower(m ->> 'username')
            from jsonb_array_elements(
                case when jsonb_typeof(record -> 'entities' -> 'mentions') = 'array'
                    then record -> 'entities' -> 'mentions' else '[]'::jsonb end
            ) as m
        ), cast(array[] as text[])) as mentions,
        coalesce(array(
            select coalesce(u ->> 'unwound_url', u ->> 'expanded_url', u ->> 'url')
            from jsonb_array_elements(
                case when jsonb_typeof(record -> 'entities' -> 'urls') = 'array'
                    then record -> 'entities' -> 'urls' else '[]'::jsonb end
            ) as u
        ), cast(array[] as text[])) as urls,

        ----------  how the connector found it
        record ->> '_found_via' as found_via,
        coalesce(array(
            select jsonb_array_elements_text(
                case when jsonb_typeof(record -> '_also_found_via') = 'array'
                    then record -> '_also_found_via' else '[]'::jsonb end
            )
        ), cast(array[] as text[])) as also_found_via,

        ----------  lineage
        _interval_start as snapshot_day,
        _extracted_at as extracted_at,
        _landing_file as source_file,
        _line_no as source_line

    from source
    cross join lateral (
        select
            max(r.ref ->> 'id') filter (where r.ref ->> 'type' = 'retweeted') as retweeted_id,
            max(r.ref ->> 'id') filter (where r.ref ->> 'type' = 'quoted') as quoted_id,
            max(r.ref ->> 'id') filter (where r.ref ->> 'type' = 'replied_to') as replied_to_id,
            max(a.ref ->> 'author_username') filter (where a.ref ->> 'type' = 'retweeted')
                as retweeted_author,
            max(a.ref ->> 'author_username') filter (where a.ref ->> 'type' = 'quoted')
                as quoted_author,
            max(a.ref ->> 'author_username') filter (where a.ref ->> 'type' = 'replied_to')
                as replied_to_author
        from jsonb_array_elements(
            case when jsonb_typeof(source.record -> 'referenced_tweets') = 'array'
                then source.record -> 'referenced_tweets' else '[]'::jsonb end
        ) as r (ref)
        left join jsonb_array_elements(
            case when jsonb_typeof(source.record -> '_referenced') = 'array'
                then source.record -> '_referenced' else '[]'::jsonb end
        ) as a (ref)
            on a.ref ->> 'id' = r.ref ->> 'id' and a.ref ->> 'type' = r.ref ->> 'type'
    ) as referenced

)

select * from renamed
