{# One audience snapshot (followers) per X account per run day. #}
with

source as (

    select * from {{ source('x', 'users') }}

),

renamed as (

    select
        ----------  ids
        'x' as platform,
        record ->> 'id' as platform_user_id,
        lower(record ->> 'username') as username,

        ----------  audience as of snapshot_day
        cast(record -> 'public_metrics' ->> 'followers_count' as bigint) as audience,
        coalesce(record ->> '_role', 'advocate') as role,

        ----------  lineage
        _interval_start as snapshot_day,
        _extracted_at as extracted_at,
        _landing_file as source_file,
        _line_no as source_line

    from source

)

select * from renamed
