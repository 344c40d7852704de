{#
    stg_<platform>__audience of every enabled platform (macro union_platform_models),
    restricted to snapshots taken up to the report date (var as_of_date).
#}
with

unioned as (

    {{ union_platform_models('audience') }}

),

final as (

    select *
    from unioned
    where snapshot_day <= {{ as_of_date() }}

)

select * from final
