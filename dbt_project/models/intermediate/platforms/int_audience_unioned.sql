{#
    stg_<platform>__audience of every enabled platform (macro union_platform_models),
    restricted to snapshots taken up to the report date (var as_of_date).
    Incremental by snapshot day like int_posts_unioned (macros/incremental.sql):
    a night parses only the raw rows of the days it loaded.
#}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    pre_hook=["{{ delete_incremental_window('snapshot_day') }}"],
    post_hook=["{{ record_incremental_build() }}"],
    indexes=[{'columns': ['platform', 'platform_user_id']}, {'columns': ['snapshot_day']}],
    on_schema_change='append_new_columns'
) }}
with

unioned as (

    {{ union_platform_models('audience') }}

),

final as (

    select *
    from unioned
    where snapshot_day <= {{ as_of_date() }}
        and {{ in_incremental_window('snapshot_day') }}

)

select * from final
