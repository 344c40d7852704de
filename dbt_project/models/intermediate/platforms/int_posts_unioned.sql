{#
    stg_<platform>__posts of every enabled platform (macro union_platform_models),
    restricted to snapshots taken up to the report date (var as_of_date).
    Incremental by snapshot day (macros/incremental.sql): a night parses only
    the raw rows of the days it loaded, the rest stays as built; indexed by
    post for int_posts_deduplicated and by day for the window.
#}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    pre_hook=["{{ delete_incremental_window('snapshot_day') }}"],
    post_hook=["{{ record_incremental_build() }}"],
    indexes=[{'columns': ['platform', 'post_id']}, {'columns': ['snapshot_day']}],
    on_schema_change='append_new_columns'
) }}
{{ warn_unimplemented_platforms() }}
with

unioned as (

    {{ union_platform_models('posts') }}

),

final as (

    select *
    from unioned
    where snapshot_day <= {{ as_of_date() }}
        and {{ in_incremental_window('snapshot_day') }}

)

select * from final
