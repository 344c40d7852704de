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
        bool_or({{ post_found_in('timeline') }}) as in_timeline,
        coalesce(bool_or({{ post_found_in('timeline') }}) filter (where snapshot_day < {{ as_of_date() }}), false)
            as prefix_in_timeline,
        bool_or({{ post_found_in('search') }}) as in_search,
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
