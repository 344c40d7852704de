{#
    The rows of a raw table whose stream stores repeats (advocacy.load.REPEAT_STREAMS): a
    record identical to its key's previous stored record is loaded as a row whose record is
    null. Here it gets that record back (the latest stored one of its key before its day:
    one probe of the loader's partial index on _record_key + _interval_start, which holds
    the whole records only), so every row reads as landed. coalesce evaluates the lookup
    only for a repeat.
#}
{% macro raw_records(relation) %}
    select
        raw_row._interval_start,
        raw_row._extracted_at,
        raw_row._landing_file,
        raw_row._line_no,
        raw_row._record_key,
        raw_row._record_time,
        coalesce(
            raw_row.record,
            (
                select previous.record
                from {{ relation }} as previous
                where
                    previous._record_key = raw_row._record_key
                    and previous._interval_start < raw_row._interval_start
                    and previous.record is not null
                order by previous._interval_start desc, previous._extracted_at desc, previous._line_no desc
                limit 1
            )
        ) as record
    from {{ relation }} as raw_row
{% endmacro %}
