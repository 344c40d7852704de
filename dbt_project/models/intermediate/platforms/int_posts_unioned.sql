{#
    stg_<platform>__posts of every enabled platform (macro union_platform_models),
    restricted to snapshots taken up to the report date (var as_of_date).
#}
{{ warn_unimplemented_platforms() }}
with

unioned as (

    {{ union_platform_models('posts') }}

),

final as (

    select *
    from unioned
    where snapshot_day <= {{ as_of_date() }}

)

select * from final
