{#
    Incremental builds of the big snapshot models (dbt_project/README.md,
    "Incremental models"). A nightly build recomputes only the snapshot days
    that changed since the model's last build:

    * days after the previous build's report date, up to this one's, and
    * days (re)loaded since the previous build (audit.load_log.loaded_at >
      its built_at): a rerun or a replay of a past day replaces that day.

    Anything else rebuilds the whole model (the same rows a full refresh
    gives): the first build, a model built before this bookkeeping existed,
    or a report date earlier than the previous build's (a past report).
    Each build of such a model records (model, as_of, built_at) in
    audit.dbt_incremental_builds (post-hook record_incremental_build).
#}

{% macro incremental_window() -%}
    {#- {'full': bool, 'since': 'YYYY-MM-DD' or none, 'days': [...], 'first': ...}: read by the model and its hooks
        alike (the hooks do not change what it reads, so both see the same window) -#}
    {%- if not execute or this is none or not is_incremental() or flags.FULL_REFRESH -%}
        {{ return({'full': true, 'since': none, 'days': []}) }}
    {%- endif -%}
    {%- set exists = run_query(
        "select to_regclass('audit.dbt_incremental_builds') is not null,"
        " to_regclass('audit.load_log') is not null"
    ).rows[0] -%}
    {%- if not exists[0] -%}
        {{ return({'full': true, 'since': none, 'days': []}) }}
    {%- endif -%}
    {%- set last_sql -%}
        select as_of::text, built_at::text, ({{ as_of_date() }})::text
        from audit.dbt_incremental_builds
        where model = {{ dbt.string_literal(this.identifier) }}
        order by built_at desc
        limit 1
    {%- endset -%}
    {%- set rows = run_query(last_sql).rows -%}
    {%- if rows | length == 0 or rows[0][2] < rows[0][0] -%}
        {{ return({'full': true, 'since': none, 'days': []}) }}
    {%- endif -%}
    {%- set days = [] -%}
    {%- if exists[1] -%}
        {%- set days_sql -%}
            select distinct interval_start::text
            from audit.load_log
            where loaded_at > cast({{ dbt.string_literal(rows[0][1]) }} as timestamptz)
                and interval_start <= {{ as_of_date() }}
            order by 1
        {%- endset -%}
        {%- for r in run_query(days_sql).rows -%}{%- do days.append(r[0]) -%}{%- endfor -%}
    {%- endif -%}
    {#- first: no day before it is rebuilt (days are ISO strings: min is the earliest) -#}
    {{ return({'full': false, 'since': rows[0][0], 'days': days, 'first': ([rows[0][0]] + days) | min}) }}
{%- endmacro %}


{#- SQL predicate: `column` is a snapshot day the window rebuilds -#}
{% macro in_incremental_window(column, window=none) -%}
    {%- set w = window or incremental_window() -%}
    {%- if w['full'] -%}
        true
    {%- else -%}
        ({{ column }} > cast({{ dbt.string_literal(w['since']) }} as date)
        {%- if w['days'] %}
            or {{ column }} in (
                {%- for d in w['days'] %}cast({{ dbt.string_literal(d) }} as date){{ ", " if not loop.last }}{% endfor -%}
            )
        {%- endif %})
    {%- endif -%}
{%- endmacro %}


{#- pre-hook of a model partitioned by `column`: delete the days it is about to rebuild (all of
    them on a whole rebuild), any day after the report date and the rows matching `also` (SQL, the
    ones the model recomputes whatever their day) -#}
{% macro delete_incremental_window(column, also=none) -%}
    {%- if is_incremental() -%}
        delete from {{ this }}
        where {{ in_incremental_window(column) }} or {{ column }} > {{ as_of_date() }}
        {%- if also %} or ({{ also }}){% endif %}
    {%- endif -%}
{%- endmacro %}


{#- pre-hook of a model keyed by post (delete+insert on platform, post_id): on a whole rebuild,
    start from empty (posts that are gone, e.g. created after an earlier report date, go too) -#}
{% macro delete_on_full_window() -%}
    {%- if is_incremental() and incremental_window()['full'] -%}
        delete from {{ this }}
    {%- endif -%}
{%- endmacro %}


{#- config of a model keyed by post, rebuilt by delete+insert on (platform, post_id) for the posts
    a night touches (affected_posts); a whole rebuild starts from empty. Call it as the model's
    config block: {{ incremental_by_post_config() }}; `indexes` as dbt-postgres's config, `post_hook`
    runs before the build is recorded -#}
{% macro incremental_by_post_config(indexes=[], post_hook=[]) -%}
    {{ config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['platform', 'post_id'],
        indexes=indexes,
        pre_hook=["{{ delete_on_full_window() }}"],
        post_hook=post_hook + ["{{ record_incremental_build() }}"],
        on_schema_change='append_new_columns'
    ) }}
{%- endmacro %}


{#- SQL date from which a night may merge a model's stored per-post state with the rows it reads
    again (int_posts_deduplicated), or none: the day after the previous build's report date when
    every (re)loaded day of the window is later (a night), that report date itself when the window
    also replaces it (a rerun of the last night), none for a whole rebuild or a window replacing an
    older day (backfill, replay) -#}
{% macro window_merge_from(w) -%}
    {%- if w['full'] -%}{{ return(none) }}{%- endif -%}
    {%- set older = w['days'] | select('lt', w['since']) | list -%}
    {%- set same = w['days'] | select('equalto', w['since']) | list -%}
    {%- if older | length > 0 -%}
        {{ return(none) }}
    {%- elif same | length > 0 -%}
        {{ return("cast(" ~ dbt.string_literal(w['since']) ~ " as date)") }}
    {%- else -%}
        {{ return("cast(cast(" ~ dbt.string_literal(w['since']) ~ " as date) + 1 as date)") }}
    {%- endif -%}
{%- endmacro %}


{#- select list of the (platform, post_id) a night recomputes in a model keyed by post: those of
    each (relation, day column) in `sources` on a day of the window `w`, and, with `this_day_column`,
    the model's own posts whose that-day reached the window's first day (a replaced day may have
    lost a row of a post seen on it or later) -#}
{% macro affected_posts(w, sources, this_day_column=none) -%}
    {%- for relation, day_column in sources %}
    select platform, post_id
    from {{ relation }}
    where {{ in_incremental_window(day_column, w) }}
    {%- if not loop.last or this_day_column %}
    union
    {%- endif %}
    {%- endfor %}
    {%- if this_day_column %}
    select platform, post_id
    from {{ this }}
    where {{ this_day_column }} >= cast({{ dbt.string_literal(w['first']) }} as date)
    {%- endif %}
{%- endmacro %}

{#- Models partitioned by reporting month (int_advocate_audience_monthly): a night recomputes the
    months from the one of the window's first day on (a month's row carries the latest snapshot up
    to its end, so a changed day changes its month and every later one).
    {'full': bool, 'month': 'YYYY-MM-01' or none}: full as incremental_window(), and also when that
    month is the first reporting month (nothing before it to keep) -#}
{% macro incremental_month_window() -%}
    {%- set w = incremental_window() -%}
    {%- set first_month = (var('programme_start_date') | string)[:7] ~ '-01' -%}
    {%- if w['full'] or (w['first'][:7] ~ '-01') <= first_month -%}
        {{ return({'full': true, 'month': none}) }}
    {%- endif -%}
    {{ return({'full': false, 'month': w['first'][:7] ~ '-01'}) }}
{%- endmacro %}


{#- pre-hook of int_advocate_audience_monthly: delete the months a night recomputes and every row
    of the employee + platform pairs it recomputes over all months: those whose account changed
    (int_employee_accounts no longer gives the row's account_handle) and those without a snapshot
    before the first recomputed month (carried back there: a new or replaced earliest snapshot
    changes their earlier months too). A whole rebuild starts from empty. -#}
{% macro delete_audience_months() -%}
    {%- if is_incremental() -%}
        {%- set m = incremental_month_window() -%}
        delete from {{ this }}
        {%- if not m['full'] %} as t
        where t.month >= cast({{ dbt.string_literal(m['month']) }} as date)
            or not exists (
                select 1
                from {{ this }} as prior
                inner join {{ ref('int_employee_accounts') }} as accounts
                    on prior.platform = accounts.platform
                    and prior.employee_id = accounts.employee_id
                    and prior.account_handle = accounts.handle
                where prior.platform = t.platform
                    and prior.employee_id = t.employee_id
                    and prior.month = cast(cast({{ dbt.string_literal(m['month']) }} as date) - interval '1 month' as date)
                    and prior.audience_source <> 'carried_back'
            )
        {%- endif %}
    {%- endif -%}
{%- endmacro %}


{#- post-hook: remember this build's report date and time for the next build's window -#}
{% macro record_incremental_build() -%}
    create table if not exists audit.dbt_incremental_builds (
        model text not null,
        as_of date not null,
        built_at timestamptz not null default now()
    );
    insert into audit.dbt_incremental_builds (model, as_of)
    values ({{ dbt.string_literal(this.identifier) }}, {{ as_of_date() }})
{%- endmacro %}


{#-
    Data tests on day-partitioned relations (staging views over raw, the
    incremental models) look at the report date's recent days only: the rows
    a night can add or replace. Older days were tested on their own night;
    the marts' gate (Great Expectations) still reads whole marts. A test with
    its own `where` keeps it; var('test_all_days', false) = true tests every
    day (e.g. after a replay of old days).
-#}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where') -%}
    {%- set day_column = none -%}
    {%- if not where and not var('test_all_days', false) and execute and relation.identifier is defined -%}
        {%- set by_name = {
            'int_posts_unioned': 'snapshot_day', 'int_post_metrics_unioned': 'snapshot_day',
            'int_post_metrics_daily': 'day', 'fct_post_engagement_daily': 'day'} -%}
        {%- if relation.identifier in by_name -%}
            {%- set day_column = by_name[relation.identifier] -%}
        {%- elif relation.identifier.startswith('stg_') and relation.schema == 'staging' -%}
            {%- set cols = adapter.get_columns_in_relation(relation) | map(attribute='name') | list -%}
            {%- if 'snapshot_day' in cols -%}{%- set day_column = 'snapshot_day' -%}{%- endif -%}
        {%- endif -%}
    {%- endif -%}
    {%- if where -%}
        (select * from {{ relation }} where {{ where }}) dbt_subquery
    {%- elif day_column -%}
        {#- no alias: some generic tests alias their model themselves (PostgreSQL >= 16) -#}
        (select * from {{ relation }}
         where {{ day_column }} >= {{ as_of_date() }} - {{ var('test_recent_days', 3) }})
    {%- else -%}
        {{ relation }}
    {%- endif -%}
{%- endmacro %}
