{#
    Self-reported activity per employee, reporting month and platform, with
    whether it counts. platform = the reported text mapped like utm_source
    (macro social_platform: a registry platform's utm_aliases -> its code;
    anything else lowercase as typed, empty -> 'other'); two spellings of one
    platform are added up.
    Never double-counted with API data: a row is superseded (is_counted false)
    when the employee has >= 1 programme post from the platform APIs on that
    platform created in that month - the API numbers win for that
    employee + platform + month. Only employees of the roster (as of the
    report date) and months of int_months are kept; whether the employee was
    registered is decided in int_employee_months.
#}
with

reports as (

    select * from {{ ref('stg_self_report__activity') }}

),

months as (

    select month from {{ ref('int_months') }}

),

employees as (

    select employee_id from {{ ref('int_employees') }}

),

api_platform_months as (

    select distinct
        employee_id,
        platform,
        created_month as month
    from {{ ref('int_posts_classified') }}
    where is_programme_post

),

mapped as (

    select
        reports.employee_id,
        reports.month,
        coalesce({{ social_platform('reports.platform_reported') }}, 'other') as platform,
        reports.posts,
        reports.likes,
        reports.comments,
        reports.shares
    from reports
    inner join months on reports.month = months.month
    inner join employees on reports.employee_id = employees.employee_id

),

aggregated as (

    select
        employee_id,
        month,
        platform,
        sum(posts) as posts,
        sum(likes) as likes,
        sum(comments) as comments,
        sum(shares) as shares
    from mapped
    group by employee_id, month, platform

),

final as (

    select
        aggregated.employee_id,
        aggregated.month,
        aggregated.platform,
        aggregated.posts,
        aggregated.likes,
        aggregated.comments,
        aggregated.shares,
        aggregated.likes + aggregated.comments + aggregated.shares as interactions,
        api_platform_months.employee_id is not null as is_superseded_by_api,
        api_platform_months.employee_id is null as is_counted
    from aggregated
    left join api_platform_months
        on aggregated.employee_id = api_platform_months.employee_id
        and aggregated.platform = api_platform_months.platform
        and aggregated.month = api_platform_months.month

)

select * from final
