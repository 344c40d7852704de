{# One audience snapshot (followers) per Bluesky account per run day. #}
with

source as (

    select * from {{ source('bluesky', 'profiles') }}

),

renamed as (

    select
        ----------  ids
        'bluesky' as platform,
        record ->> 'did' as platform_user_id,
        lower(record ->> 'handle') as username,

        ----------  audience as of snapshot_day
        cast(record ->> 'followersCount' as bigint) as audience,
        coalesce(record ->> '_role', 'advocate') as role,

        ----------  lineage
        _interval_start as snapshot_day,
        _extracted_at as extracted_at,
        _landing_file as source_file,
        _line_no as source_line

    from source

)

select * from renamed
