{#
    One audience snapshot per Facebook account per run day: the company Pages
    (raw.facebook__pages: followers_count, else fan_count) and the advocates
    who granted a token (raw.facebook__users: friends total_count; null
    without the user_friends permission). username = the account id,
    lowercase (Facebook accounts are named by id in the roster and settings).
#}
with

pages as (

    select * from {{ source('facebook', 'pages') }}

),

users as (

    select * from {{ source('facebook', 'users') }}

),

unioned as (

    select
        record ->> 'id' as platform_user_id,
        cast(coalesce(
            record ->> '_audience', record ->> 'followers_count', record ->> 'fan_count'
        ) as bigint) as audience,
        coalesce(record ->> '_role', 'company') as role,
        _interval_start,
        _extracted_at,
        _landing_file,
        _line_no
    from pages

    union all

    select
        record ->> 'id' as platform_user_id,
        cast(coalesce(
            record ->> '_audience', record -> 'friends' -> 'summary' ->> 'total_count'
        ) as bigint) as audience,
        coalesce(record ->> '_role', 'advocate') as role,
        _interval_start,
        _extracted_at,
        _landing_file,
        _line_no
    from users

),

renamed as (

    select
        ----------  ids
        'facebook' as platform,
        platform_user_id,
        lower(platform_user_id) as username,

        ----------  audience as of snapshot_day
        audience,
        role,

        ----------  lineage
        _interval_start as snapshot_day,
        _extracted_at as extracted_at,
        _landing_file as source_file,
        _line_no as source_line

    from unioned

)

select * from renamed
