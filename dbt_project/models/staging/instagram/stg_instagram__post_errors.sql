{#
    Instagram reports no missing posts: the connector re-reads the company's
    and advocates' media back to its horizon instead of looking ids up, so it
    has no post error stream. An empty relation with the standard columns, so
    the platform-neutral union stays one pattern (a media no longer listed
    keeps its last counters and is never marked deleted).
#}
select
    cast(null as text) as platform,
    cast(null as text) as post_id,
    cast(null as text) as error_kind,
    cast(null as text) as error_title,
    cast(null as text) as error_detail,
    cast(null as date) as snapshot_day,
    cast(null as timestamptz) as extracted_at,
    cast(null as text) as source_file,
    cast(null as integer) as source_line
where false
