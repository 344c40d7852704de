{#- SQL predicate on an occurrence of int_posts_unioned: the stream `stream` found it (its own or
    an also_found_via one) -#}
{% macro post_found_in(stream) -%}
    (found_via = {{ dbt.string_literal(stream) }} or {{ dbt.string_literal(stream) }} = any(also_found_via))
{%- endmacro %}


{#- select of int_posts_deduplicated's per-post counts over the occurrences in `relation`: first /
    last seen day, occurrences, found by a timeline / the search, and the prefix_* ones (only the
    occurrences before the report date: what a rerun of this night starts from) -#}
{% macro post_occurrence_stats(relation) -%}
    select
        platform,
        post_id,
        min(snapshot_day) as first_seen_day,
        max(snapshot_day) as last_seen_day,
        count(*) as occurrences,
        count(*) filter (where snapshot_day < {{ as_of_date() }}) as prefix_occurrences,
        coalesce(bool_or({{ post_found_in('timeline') }}), false) as in_timeline,
        coalesce(bool_or({{ post_found_in('timeline') }}) filter (where snapshot_day < {{ as_of_date() }}), false)
            as prefix_in_timeline,
        coalesce(bool_or({{ post_found_in('search') }}), false) as in_search,
        coalesce(bool_or({{ post_found_in('search') }}) filter (where snapshot_day < {{ as_of_date() }}), false)
            as prefix_in_search
    from {{ relation }}
    group by platform, post_id
{%- endmacro %}


{#- post-hook of int_posts_deduplicated: rows kept from a build before its normalised_text column
    (added empty by on_schema_change) get it once, so int_posts_classified never recomputes it -#}
{% macro fill_normalised_text() -%}
    {%- if is_incremental() -%}
        update {{ this }}
        set normalised_text = {{ normalise_text('post_text') }}
        where normalised_text is null
    {%- endif -%}
{%- endmacro %}


{#- select of every occurrence in int_posts_unioned of the posts (platform, post_id) in the
    relation or CTE `posts`: a few posts a night, read by the (platform, post_id) index; lateral,
    so the planner cannot choose a scan of every occurrence on a misestimate -#}
{% macro occurrences_of(posts) -%}
    select occ.*
    from {{ posts }}
    cross join lateral (
        select *
        from {{ ref('int_posts_unioned') }} as occ
        where occ.platform = {{ posts }}.platform
            and occ.post_id = {{ posts }}.post_id
        offset 0  -- keeps the subquery lateral (not pulled up into a hash join)
    ) as occ
{%- endmacro %}
