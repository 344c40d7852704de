{#
    One audience snapshot (followers) per Instagram account per run day: the
    company business account and every advocate's professional account as
    business discovery returned it (raw.instagram__accounts).
#}
with

source as (

    select * from {{ source('instagram', 'accounts') }}

),

renamed as (

    select
        ----------  ids
        'instagram' as platform,
        record ->> 'id' as platform_user_id,
        lower(ltrim(coalesce(nullif(record ->> 'username', ''), record ->> '_handle'), '@')) as username,

        ----------  audience as of snapshot_day
        cast(coalesce(record ->> '_audience', record ->> 'followers_count') as bigint) as audience,
        coalesce(record ->> '_role', 'advocate') as role,

        ----------  lineage
        _interval_start as snapshot_day,
        _extracted_at as extracted_at,
        _landing_file as source_file,
        _line_no as source_line

    from source

)

select * from renamed
