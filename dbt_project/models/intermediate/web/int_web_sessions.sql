{#
    Every web session up to the report date with its local month, the social
    platform of its utm_source (macro social_platform; an unknown or empty
    source is 'other'), whether it is a referral session (utm_medium =
    var('utm_medium'), case-insensitive) and the employee whose roster
    utm_code equals utm_content (case-insensitive; roster as of the report
    date; a code held by two employees goes to the one still employed, then
    the lowest employee_id).
#}
with

sessions as (

    select * from {{ ref('stg_web__sessions') }}
    where {{ local_date('session_start') }} <= {{ as_of_date() }}

),

codes as (

    select distinct on (lower(utm_code))
        lower(utm_code) as utm_code,
        employee_id
    from {{ ref('int_employees') }}
    where utm_code is not null
    order by lower(utm_code), (left_at is null) desc, employee_id

),

final as (

    select
        sessions.session_id,
        sessions.session_start,
        {{ local_month('sessions.session_start') }} as month,
        sessions.utm_source,
        sessions.utm_medium,
        sessions.utm_campaign,
        sessions.utm_content,
        coalesce({{ social_platform('sessions.utm_source') }}, 'other') as platform_raw,
        sessions.conversions,
        sessions.source_format,
        coalesce(sessions.utm_medium = lower({{ dbt.string_literal(var('utm_medium')) }}), false)
            as is_referral,
        codes.employee_id
    from sessions
    left join codes
        on sessions.utm_content = codes.utm_code

),

classified as (

    select
        *,
        case
            when platform_raw = any({{ text_array(social_platforms()) }}) then platform_raw
            else 'other'
        end as platform
    from final

)

select
    session_id,
    session_start,
    month,
    utm_source,
    utm_medium,
    utm_campaign,
    utm_content,
    platform,
    conversions,
    source_format,
    is_referral,
    employee_id
from classified
