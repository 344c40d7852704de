{#
    The platforms this project can read, and what is platform-specific about
    each outside its own staging folder. Adding a platform = a staging folder
    `models/staging/<platform>/` producing the standard models (see
    platform_columns) + one entry here + its name in var('enabled_platforms').

    roster_handle_column: the roster column holding the employee's account on it;
    author_key: which staging column that roster value identifies
                ('username' = author_username, 'user_id' = author_platform_user_id);
    streams: raw stream -> the staging model reading it (fct_source_freshness);
             only streams read by a model of their own (facebook pages + users
             both feed stg_facebook__audience, so neither is listed: the
             freshness mart would count the other stream's rows too).
#}
{% macro platform_registry() %}
    {{ return({
        'x': {
            'roster_handle_column': 'x_username',
            'author_key': 'username',
            'streams': {
                'users': 'stg_x__audience',
                'tweets': 'stg_x__posts',
                'tweet_errors': 'stg_x__post_errors',
                'user_errors': 'stg_x__account_errors',
            },
        },
        'facebook': {
            'roster_handle_column': 'facebook_user_id',
            'author_key': 'user_id',
            'streams': {
                'posts': 'stg_facebook__posts',
                'post_errors': 'stg_facebook__post_errors',
            },
        },
        'instagram': {
            'roster_handle_column': 'instagram_username',
            'author_key': 'username',
            'streams': {
                'accounts': 'stg_instagram__audience',
                'media': 'stg_instagram__posts',
            },
        },
        'linkedin': {
            'roster_handle_column': 'linkedin_member_urn',
            'author_key': 'user_id',
            'streams': {
                'network_sizes': 'stg_linkedin__audience',
                'posts': 'stg_linkedin__posts',
                'post_errors': 'stg_linkedin__post_errors',
            },
        },
        'bluesky': {
            'roster_handle_column': 'bluesky_handle',
            'author_key': 'username',
            'streams': {
                'profiles': 'stg_bluesky__audience',
                'posts': 'stg_bluesky__posts',
                'post_errors': 'stg_bluesky__post_errors',
                'actor_errors': 'stg_bluesky__actor_errors',
            },
        },
    }) }}
{% endmacro %}

{# Non-platform sources read by fct_source_freshness: source -> stream -> staging model. #}
{% macro other_source_streams() %}
    {{ return({
        'roster': {'employees': 'stg_roster__employees'},
        'self_report': {'activity': 'stg_self_report__activity'},
        'web': {'sessions': 'stg_web__sessions'},
    }) }}
{% endmacro %}

{# The sources of other_source_streams() whose staging model reads only the latest landed copy (the
   whole file is landed again every night, an older copy drops out): int_source_loads_daily
   recounts them whole each night instead of by day. #}
{% macro latest_copy_sources() %}
    {{ return(['self_report', 'web']) }}
{% endmacro %}

{# SQL: the row's `source` is one of latest_copy_sources() #}
{% macro latest_copy_predicate() -%}
    source = any({{ text_array(latest_copy_sources()) }})
{%- endmacro %}

{# var('enabled_platforms') restricted to the platforms this project implements, in registry order. #}
{% macro enabled_platforms() %}
    {%- set wanted = var('enabled_platforms', []) or [] -%}
    {%- set out = [] -%}
    {%- for p in platform_registry().keys() -%}
        {%- if p in wanted -%}{%- do out.append(p) -%}{%- endif -%}
    {%- endfor -%}
    {{ return(out) }}
{% endmacro %}

{# The enabled platforms as a one-column `values` list (platform text). #}
{% macro enabled_platforms_values() -%}
    {%- set rows = [] -%}
    {%- for p in enabled_platforms() -%}{%- do rows.append('(' ~ dbt.string_literal(p) ~ ')') -%}{%- endfor -%}
    {%- if rows -%}
        (values {{ rows | join(', ') }})
    {%- else -%}
        (select cast(null as text) where false)
    {%- endif -%}
{%- endmacro %}

{#
    The standard column set of each per-platform staging model
    stg_<platform>__<entity>: every platform produces exactly these columns,
    so intermediate models union them without knowing the platform.
#}
{% macro platform_columns(entity) %}
    {%- set lineage = [('snapshot_day', 'date'), ('extracted_at', 'timestamptz'),
                       ('source_file', 'text'), ('source_line', 'integer')] -%}
    {%- set sets = {
        'posts': [
            ('platform', 'text'), ('post_id', 'text'), ('author_platform_user_id', 'text'),
            ('author_username', 'text'), ('created_at', 'timestamptz'), ('post_text', 'text'),
            ('post_type', 'text'), ('referenced_post_id', 'text'), ('referenced_author_username', 'text'),
            ('hashtags', 'text[]'), ('mentions', 'text[]'), ('urls', 'text[]'),
            ('found_via', 'text'), ('also_found_via', 'text[]'),
        ],
        'post_metrics': [
            ('platform', 'text'), ('post_id', 'text'), ('likes', 'bigint'), ('comments', 'bigint'),
            ('shares', 'bigint'), ('impressions', 'bigint'),
        ],
        'audience': [
            ('platform', 'text'), ('platform_user_id', 'text'), ('username', 'text'),
            ('audience', 'bigint'), ('role', 'text'),
        ],
        'post_errors': [
            ('platform', 'text'), ('post_id', 'text'), ('error_kind', 'text'),
            ('error_title', 'text'), ('error_detail', 'text'),
        ],
    } -%}
    {{ return(sets[entity] + lineage) }}
{% endmacro %}

{#
    `select ... union all select ...` over stg_<platform>__<entity> of every
    enabled platform, in the standard column order; an empty, typed relation
    when no platform is enabled.
#}
{% macro union_platform_models(entity) -%}
    {%- set columns = platform_columns(entity) -%}
    {%- set platforms = enabled_platforms() -%}
    {%- if platforms | length == 0 %}
    select
        {%- for name, type in columns %}
        cast(null as {{ type }}) as {{ name }}{{ ',' if not loop.last }}
        {%- endfor %}
    where false
    {%- else -%}
        {%- for p in platforms %}
    select
        {%- for name, type in columns %}
        cast({{ name }} as {{ type }}) as {{ name }}{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ ref('stg_' ~ p ~ '__' ~ entity) }}
        {%- if not loop.last %}
    union all
        {%- endif %}
        {%- endfor %}
    {%- endif %}
{%- endmacro %}

{#
    A platform enabled in the settings but without a staging folder here would
    silently drop out of every KPI: say so once per run (called by int_posts_unioned).
#}
{% macro warn_unimplemented_platforms() %}
    {%- if execute -%}
        {%- set missing = [] -%}
        {%- for p in var('enabled_platforms', []) or [] -%}
            {%- if p not in platform_registry() -%}{%- do missing.append(p) -%}{%- endif -%}
        {%- endfor -%}
        {%- if missing -%}
            {%- do exceptions.warn(
                "enabled_platforms lists " ~ missing | join(', ') ~ " but dbt_project has no staging for "
                ~ ("it" if missing | length == 1 else "them") ~ " yet (macro platform_registry): "
                ~ "those platforms are left out of every mart"
            ) -%}
        {%- endif -%}
    {%- endif -%}
{% endmacro %}

{#
    A free-text platform name (utm_source, a self-reported platform) as one of
    the social platforms, else the lowercased text itself:
    x / twitter / t.co -> x, linkedin / lnkd.in -> linkedin,
    facebook / fb / m.facebook.com / l.facebook.com -> facebook,
    instagram / ig / l.instagram.com -> instagram,
    bluesky / bsky / bsky.app -> bluesky.
#}
{% macro social_platform(expr) -%}
    case
        when lower(btrim({{ expr }})) in ('x', 'twitter', 't.co', 'x.com', 'twitter.com') then 'x'
        when lower(btrim({{ expr }})) in ('linkedin', 'lnkd.in', 'linkedin.com') then 'linkedin'
        when lower(btrim({{ expr }})) in ('facebook', 'fb', 'facebook.com', 'm.facebook.com', 'l.facebook.com') then 'facebook'
        when lower(btrim({{ expr }})) in ('instagram', 'ig', 'instagram.com', 'l.instagram.com') then 'instagram'
        when lower(btrim({{ expr }})) in ('bluesky', 'bsky', 'bsky.app', 'bsky.social', 'go.bsky.app') then 'bluesky'
        else nullif(lower(btrim({{ expr }})), '')
    end
{%- endmacro %}

{# The social platforms referral baselines count (docs/metrics.md: "utm_source in the social platforms"):
   the four it names, plus any other enabled platform (bluesky), so a night without one is unchanged. #}
{% macro social_platforms() %}
    {%- set out = ['x', 'linkedin', 'facebook', 'instagram'] -%}
    {%- for p in enabled_platforms() -%}{%- if p not in out -%}{%- do out.append(p) -%}{%- endif -%}{%- endfor -%}
    {{ return(out) }}
{% endmacro %}
