{#
    Potential reach per month and enabled platform, plus 'ALL'.
    - active_advocates: employees with >= 1 programme post on the platform
      created in the month ('ALL': distinct employees over all platforms);
    - potential_reach: sum of those advocates' audience for the month
      (int_advocate_audience_monthly: latest snapshot in the month, carried
      forward over gaps, and for months before the first snapshot the earliest
      one carried back); 'ALL' adds the platforms up (an advocate on two
      platforms counts both audiences); 0 with no active advocate;
    - avg_audience = potential_reach / active_advocates (2 decimals; null when 0);
    - benchmark_avg_audience: seed benchmark_audience (null = no benchmark);
      'ALL': the platforms' benchmarks weighted by their active advocates (the
      plain mean of the enabled platforms' benchmarks in a month without any);
    - impressions: sum of the impressions of those programme posts (latest
      snapshot); 0 without posts, null when none of the posts has impressions.
#}
with

months as (

    select month from {{ ref('int_months') }}

),

platforms as (

    select p.platform from {{ enabled_platforms_values() }} as p (platform)

),

benchmarks as (

    select
        platform,
        benchmark_avg_audience
    from {{ ref('benchmark_audience') }}

),

advocates as (

    select * from {{ ref('int_employee_platform_months') }}

),

per_platform as (

    select
        month,
        platform,
        count(*) as active_advocates,
        sum(audience) as audience_sum,
        sum(programme_posts) as programme_posts,
        sum(impressions) as impressions
    from advocates
    group by month, platform

),

platform_rows as (

    select
        months.month,
        platforms.platform,
        coalesce(per_platform.active_advocates, 0) as active_advocates,
        case
            when coalesce(per_platform.active_advocates, 0) = 0 then 0
            else per_platform.audience_sum
        end as potential_reach,
        benchmarks.benchmark_avg_audience,
        case
            when coalesce(per_platform.programme_posts, 0) = 0 then 0
            else per_platform.impressions
        end as impressions
    from months
    cross join platforms
    left join per_platform
        on months.month = per_platform.month
        and platforms.platform = per_platform.platform
    left join benchmarks
        on platforms.platform = benchmarks.platform

),

distinct_advocates as (

    select
        month,
        count(distinct employee_id) as active_advocates
    from advocates
    group by month

),

all_rows as (

    select
        months.month,
        'ALL' as platform,
        coalesce(max(distinct_advocates.active_advocates), 0) as active_advocates,
        coalesce(sum(platform_rows.potential_reach), 0) as potential_reach,
        coalesce(
            sum(platform_rows.benchmark_avg_audience * platform_rows.active_advocates)
            / nullif(
                sum(platform_rows.active_advocates) filter (
                    where platform_rows.benchmark_avg_audience is not null
                ),
                0
            ),
            avg(platform_rows.benchmark_avg_audience)
        ) as benchmark_avg_audience,
        sum(platform_rows.impressions) as impressions
    from months
    left join platform_rows
        on months.month = platform_rows.month
    left join distinct_advocates
        on months.month = distinct_advocates.month
    group by months.month

),

unioned as (

    select * from platform_rows
    union all
    select * from all_rows

),

final as (

    select
        cast(month as date) as month,
        cast(platform as text) as platform,
        cast(active_advocates as bigint) as active_advocates,
        cast(potential_reach as bigint) as potential_reach,
        cast(round({{ safe_divide('potential_reach', 'active_advocates') }}, 2) as numeric(14, 2)) as avg_audience,
        cast(round(benchmark_avg_audience, 2) as numeric(14, 2)) as benchmark_avg_audience,
        cast(impressions as bigint) as impressions
    from unioned

)

select * from final
