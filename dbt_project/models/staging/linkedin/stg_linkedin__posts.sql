{#
    One row per LinkedIn post occurrence in raw.linkedin__posts (every run that
    saw it), in the platform-neutral post columns (macro platform_columns('posts')).
    LinkedIn names accounts by URN (roster linkedin_member_urn, organisation
    URNs in var company_handles), so the handle columns hold URNs:
    author_username = the author URN lowercase, referenced_author_username =
    the reshared post's author URN, mentions = the URNs mentioned in the
    commentary. post_text is the commentary with LinkedIn's "little text"
    markup turned into plain text ({hashtag|\#|Tag} -> #Tag,
    @[Name](urn) -> Name) and the reserved characters LinkedIn escapes with a
    backslash (Little Text Format: | { } @ [ ] ( ) < > # \ * _ ~) unescaped
    once, so it compares with copy from any platform (and its normalised text,
    links and hashtags carry no backslashes).
    post_type: a reshare (reshareContext) with empty commentary = reshare,
    with commentary = quote; else original.
    found_via in the neutral vocabulary: organization -> company_timeline,
    member -> timeline, lookup -> lookup.
#}
{%- set found_via_case -%}
    case $v when 'organization' then 'company_timeline' when 'member' then 'timeline' else $v end
{%- endset %}
with

source as (

    select * from {{ source('linkedin', 'posts') }}

),

mentioned as (

    -- URNs mentioned in the little text: @[Name](urn:li:organization:N)
    select
        source._landing_file,
        source._line_no,
        array_agg(distinct lower(matches.m[1])) as urns
    from source
    cross join
        regexp_matches(
            coalesce(source.record ->> 'commentary', ''),
            '(?<!\\)@\[[^\]]*\]\((urn:li:[a-zA-Z]+:[^)]+)\)',
            'g'
        ) as matches (m)
    group by source._landing_file, source._line_no

),

renamed as (

    select
        ----------  ids
        'linkedin' as platform,
        source.record ->> 'id' as post_id,
        -- the roster handle when the connector matched the author to an advocate
        coalesce(nullif(source.record ->> '_author_employee_handle', ''), source.record ->> 'author')
            as author_platform_user_id,
        lower(coalesce(nullif(source.record ->> '_author_employee_handle', ''), source.record ->> 'author'))
            as author_username,

        ----------  content
        to_timestamp(cast(source.record ->> 'createdAt' as numeric) / 1000) as created_at,
        -- templates first (their markup is unescaped), then the reserved characters
        -- LinkedIn escapes in plain text (\( \_ \# ...) are unescaped once
        regexp_replace(
            regexp_replace(
                regexp_replace(
                    source.record ->> 'commentary', '(?<!\\)\{hashtag\|\\?#\|([^}]+)\}', '#\1', 'g'
                ),
                '(?<!\\)@\[([^\]]*)\]\([^)]*\)', '\1', 'g'
            ),
            '\\([|{}@\[\]()<>#\\*_~])', '\1', 'g'
        ) as post_text,
        case
            when source.record -> 'reshareContext' ->> 'parent' is not null
                and (
                    coalesce(cast(source.record ->> '_is_pure_reshare' as boolean), false)
                    or coalesce(btrim(source.record ->> 'commentary'), '') = ''
                )
                then 'reshare'
            when source.record -> 'reshareContext' ->> 'parent' is not null then 'quote'
            else 'original'
        end as post_type,
        source.record -> 'reshareContext' ->> 'parent' as referenced_post_id,
        lower(source.record ->> '_reshared_author') as referenced_author_username,

        ----------  entities (connector annotations; lowercase; empty array when absent)
        {{ jsonb_items("source.record -> '_hashtags'", "'#' || ltrim(lower(item #>> '{}'), '#')") }} as hashtags,
        coalesce(mentioned.urns, cast(array[] as text[])) as mentions,
        {{ jsonb_items("source.record -> '_links'", "item #>> '{}'") }} as urls,

        ----------  how the connector found it
        {{ found_via_case | replace('$v', "source.record ->> '_found_via'") }} as found_via,
        {{ jsonb_items("source.record -> '_also_found_via'", found_via_case | replace('$v', "item #>> '{}'")) }}
            as also_found_via,

        ----------  lineage
        source._interval_start as snapshot_day,
        source._extracted_at as extracted_at,
        source._landing_file as source_file,
        source._line_no as source_line

    from source
    left join mentioned
        on source._landing_file = mentioned._landing_file
        and source._line_no = mentioned._line_no

)

select * from renamed
