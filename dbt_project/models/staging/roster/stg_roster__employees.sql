with

source as (

    select * from {{ source('roster', 'employees') }}

),

renamed as (

    select
        ----------  ids
        nullif(btrim(record ->> 'employee_id'), '') as employee_id,

        ----------  person (pii)
        nullif(btrim(record ->> 'email'), '') as email,
        nullif(btrim(record ->> 'full_name'), '') as full_name,

        ----------  organisation
        nullif(btrim(record ->> 'department'), '') as department,
        nullif(btrim(record ->> 'country'), '') as country,

        ----------  dates ("" = unknown / never)
        cast(nullif(btrim(record ->> 'hired_at'), '') as date) as hired_at,
        cast(nullif(btrim(record ->> 'left_at'), '') as date) as left_at,
        cast(nullif(btrim(record ->> 'invited_at'), '') as date) as invited_at,
        cast(nullif(btrim(record ->> 'registered_at'), '') as date) as registered_at,

        ----------  consent
        coalesce(lower(btrim(record ->> 'consent_public')) in ('true', 't', '1', 'yes'), false)
            as consent_public,

        ----------  platform accounts (handles lowercase, without '@')
        nullif(lower(ltrim(btrim(record ->> 'x_username'), '@')), '') as x_username,
        nullif(btrim(record ->> 'linkedin_member_urn'), '') as linkedin_member_urn,
        nullif(btrim(record ->> 'facebook_user_id'), '') as facebook_user_id,
        nullif(lower(ltrim(btrim(record ->> 'instagram_username'), '@')), '') as instagram_username,
        nullif(btrim(record ->> 'utm_code'), '') as utm_code,
        -- optional column (the fifth platform's): null in exports without it
        nullif(lower(ltrim(btrim(record ->> 'bluesky_handle'), '@')), '') as bluesky_handle,

        ----------  lineage
        _interval_start as snapshot_day,
        _extracted_at as extracted_at,
        _landing_file as source_file,
        _line_no as source_line

    from source

)

select * from renamed
