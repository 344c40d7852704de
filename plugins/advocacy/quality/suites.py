"""The expectation suites, written in Python and reviewed like code.

Each catalog entry (``advocacy.quality.catalog``) becomes one suite named
after its table (``marts.kpi_adoption_monthly``). ``advocacy.quality.project
.sync_project`` writes them into the committed GX project under
``expectations/gx/``; a test fails when the committed JSON and this module
disagree.

Values that change from run to run are suite parameters, filled in by the
runner: ``row_count_min`` / ``row_count_max`` (from the previous successful
run of the same table) and ``platforms`` / ``platforms_or_all`` (the known
platforms). Great Expectations is imported inside the functions only.
"""

from __future__ import annotations

from advocacy.quality.catalog import TABLES, Table

ROW_COUNT_MIN = "row_count_min"
ROW_COUNT_MAX = "row_count_max"
# Row count vs. the previous successful run: at least half, at most three times plus a
# slack that lets small tables grow (a new month adds a few rows to a 3-row mart).
ROW_COUNT_LOW = 0.5
ROW_COUNT_HIGH = 3.0
ROW_COUNT_SLACK = 10


def param(name: str) -> dict:
    return {"$PARAMETER": name}


def row_count_bounds(previous: int | None, floor: int = 0) -> dict:
    """The suite parameters of the run-over-run row count expectation.

    Without a previous successful run the expectation only asks for ``floor``
    rows (no upper bound): the first run sets the baseline.
    """
    if previous is None:
        return {ROW_COUNT_MIN: floor, ROW_COUNT_MAX: None}
    low = max(int(previous * ROW_COUNT_LOW), floor)
    high = int(previous * ROW_COUNT_HIGH) + ROW_COUNT_SLACK
    return {ROW_COUNT_MIN: low, ROW_COUNT_MAX: high}


UNIQUE_TOGETHER = "unique_together"


def duplicated_keys_query(keys: tuple[str, ...] | list[str], table: str = "{batch}") -> str:
    """The key values of ``keys`` that more than one row of ``table`` has, with how many rows.

    Rows with a null key are left out, as GX's ``ExpectCompoundColumnsToBeUnique`` leaves them
    out: the keys' not-null expectations report those.
    """
    cols = ", ".join(keys)
    present = " and ".join(f"{k} is not null" for k in keys)
    return (
        f"select {cols}, count(*) as duplicate_rows from {table} where {present} "
        f"group by {cols} having count(*) > 1"
    )


def unique_together_query(keys: tuple[str, ...] | list[str]) -> str:
    """No row when ``keys`` are unique together, else ONE row: how many key values are
    duplicated and how many rows share them.

    One row, not one per duplicated key: GX fetches an unexpected-rows query's whole result
    into Python (psycopg2 buffers it client-side) to keep 200 rows, so a table loaded twice
    would put millions of keys in memory. The runner fetches a few example keys itself.
    """
    return (
        "select count(*) as duplicated_keys, sum(duplicate_rows) as duplicate_rows "
        f"from ({duplicated_keys_query(keys)}) as duplicated having count(*) > 0"
    )


def unique_together(keys: tuple[str, ...] | list[str]):
    """Compound-key uniqueness as one ``group by ... having count(*) > 1`` over the key columns.

    Not ``ExpectCompoundColumnsToBeUnique``: GX computes that on SQL by joining every row of the
    table (all columns) back to the per-key counts, then scans the table again for examples; on a
    1.9M-row table that is ~5 s against ~0.7 s for one narrow aggregate, and it grows with the
    table. Same rule, same rows: the runner's message still says how many rows share a key.
    """
    import great_expectations.expectations as gxe

    return gxe.UnexpectedRowsExpectation(
        unexpected_rows_query=unique_together_query(keys),
        description=f"({', '.join(keys)}) unique together: no two rows share these values "
        "(a failure is one row: duplicated_keys, duplicate_rows)",
        meta={"check": UNIQUE_TOGETHER, "columns": list(keys)},
    )


def expectations_for(table: Table) -> list:
    """The GX expectations of one table, in a stable order."""
    import great_expectations.expectations as gxe

    out: list = [
        gxe.ExpectTableColumnsToMatchSet(column_set=list(table.columns), exact_match=False),
    ]
    for col in (*table.keys, *table.not_null):
        out.append(gxe.ExpectColumnValuesToNotBeNull(column=col))
    if table.unique and len(table.keys) > 1:
        out.append(unique_together(table.keys))
    elif table.unique and table.keys:
        out.append(gxe.ExpectColumnValuesToBeUnique(column=table.keys[0]))
    for col in table.rates:
        out.append(gxe.ExpectColumnValuesToBeBetween(column=col, min_value=0, max_value=1))
    for col in table.counts:
        out.append(gxe.ExpectColumnValuesToBeBetween(column=col, min_value=0))
    for col, values in table.accepted.items():
        value_set = param(values[1:]) if isinstance(values, str) else sorted(values)
        out.append(gxe.ExpectColumnValuesToBeInSet(column=col, value_set=value_set))
    # Exactly one row-count expectation per table: it also records the count.
    if not table.row_count_trend:
        out.append(
            gxe.ExpectTableRowCountToBeBetween(
                min_value=param(ROW_COUNT_MIN),
                notes=(
                    "At least the table's floor (min_rows); a night that checks only the raw rows "
                    "of its own interval asks for none (a night may load no new file)."
                ),
            )
        )
    else:
        out.append(
            gxe.ExpectTableRowCountToBeBetween(
                min_value=param(ROW_COUNT_MIN),
                max_value=param(ROW_COUNT_MAX),
                notes=(
                    f"Against the previous successful run of this table: between "
                    f"{ROW_COUNT_LOW}x and {ROW_COUNT_HIGH}x + {ROW_COUNT_SLACK} rows; "
                    "on the first run only the table's floor (min_rows) applies."
                ),
            )
        )
    for check in table.checks:
        out.append(
            gxe.UnexpectedRowsExpectation(
                unexpected_rows_query=check.query,
                description=check.description,
                meta={"check": check.name},
            )
        )
    return out


def build_suite(table: Table):
    """An unsaved ``ExpectationSuite`` for one table."""
    import great_expectations as gx

    expectations = expectations_for(table)
    suite = gx.ExpectationSuite(
        name=table.qualified,
        expectations=expectations,
        meta={"source": "plugins/advocacy/quality/catalog.py via suites.py: edit there, then sync"},
    )
    # The constructor logs and drops an invalid expectation instead of raising.
    if len(suite.expectations) != len(expectations):
        raise ValueError(f"suite {table.qualified}: an expectation is invalid (see the log)")
    return suite


def keep_ids(suite, existing) -> None:
    """Give ``suite``'s unchanged expectations the ids they have in ``existing``.

    ``SuiteFactory.add_or_update`` means to do this, but in GX 1.24 an
    expectation's equality includes its id, so nothing ever matches and every
    sync would rewrite every id.
    """

    def key(expectation) -> str:
        normalized = expectation._to_normalized_self_dict()  # falsy notes / meta are equal
        normalized.pop("id", None)
        return repr((expectation.expectation_type, sorted(normalized.items())))

    ids = {key(e): e.id for e in existing.expectations}
    for expectation in suite.expectations:
        expectation.id = ids.get(key(expectation), expectation.id)
    suite.id = existing.id


def build_suites() -> dict:
    """Every suite of the catalog, by name."""
    return {t.qualified: build_suite(t) for t in TABLES}


def comparable(suite_json: dict) -> dict:
    """A suite's JSON without what the store adds (ids, GX version), for sync checks."""

    def strip(value):
        if isinstance(value, dict):
            return {
                k: strip(v)
                for k, v in value.items()
                if k not in ("id", "great_expectations_version", "rendered_content")
            }
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value

    return strip(suite_json)
