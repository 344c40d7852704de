{#
    The engagement counters each tweet occurrence carries, as of its run day
    (snapshot_day), in the platform-neutral metric columns:
    comments = replies, shares = retweets + quotes, impressions = impression_count
    (null when X did not send it: 4-key public_metrics).
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
        record ->> 'id' as post_id,

        ----------  counters (lifetime values as of snapshot_day)
        cast(record -> 'public_metrics' ->> 'like_count' as bigint) as likes,
        cast(record -> 'public_metrics' ->> 'reply_count' as bigint) as comments,
        cast(record -> 'public_metrics' ->> 'retweet_count' as bigint)
        + cast(record -> 'public_metrics' ->> 'quote_count' as bigint) as shares,
        cast(record -> 'public_metrics' ->> 'impression_count' as bigint) as impressions,

        ----------  lineage
        _interval_start as snapshot_day,
        _extracted_at as extracted_at,
        _landing_file as source_file,
        _line_no as source_line

    from source

)

select * from renamed
