{#
    One audience snapshot per LinkedIn account per run day
    (raw.linkedin__network_sizes): an organisation's followers
    (COMPANY_FOLLOWED_BY_MEMBER) or an advocate's 1st-degree connections
    (FIRST_DEGREE_CONNECTION). username = the URN lowercase (LinkedIn accounts
    are named by URN in the roster and settings).
#}
with

source as (

    select * from {{ source('linkedin', 'network_sizes') }}

),

renamed as (

    select
        ----------  ids
        'linkedin' as platform,
        coalesce(record ->> '_urn', _record_key) as platform_user_id,
        lower(coalesce(record ->> '_urn', _record_key)) as username,

        ----------  audience as of snapshot_day
        cast(record ->> 'firstDegreeSize' as bigint) as audience,
        coalesce(
            record ->> '_role',
            case when coalesce(record ->> '_urn', _record_key) like 'urn:li:organization:%' then 'company' end,
            'advocate'
        ) as role,

        ----------  lineage
        _interval_start as snapshot_day,
        _extracted_at as extracted_at,
        _landing_file as source_file,
        _line_no as source_line

    from source

)

select * from renamed
