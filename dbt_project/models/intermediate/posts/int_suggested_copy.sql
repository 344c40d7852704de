{#
    The company's suggested copy, normalised for comparison (macro
    normalise_text: lowercase, URLs removed, whitespace collapsed): the texts
    of the company accounts' own posts (not their reshares), on any platform,
    plus var('suggested_copy'). An advocate post whose normalised text equals
    one of them is a verbatim copy, not a personalised post.
#}
with

company_posts as (

    select
        {{ normalise_text('post_text') }} as normalised_text,
        'company_post' as origin
    from {{ ref('int_company_posts') }}
    where post_type <> 'reshare'

),

configured as (

    select
        {{ normalise_text('s.copy_text') }} as normalised_text,
        'settings' as origin
    from {{ suggested_copy_values() }} as s (copy_text)

),

unioned as (

    select * from company_posts
    union all
    select * from configured

),

final as (

    select
        normalised_text,
        min(origin) as origin
    from unioned
    where normalised_text <> ''
    group by normalised_text

)

select * from final
