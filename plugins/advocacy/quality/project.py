"""The committed Great Expectations project (``expectations/gx/``) and its sync.

The project is a GX *file* context: ``great_expectations.yml`` (one Postgres
data source whose connection string is the placeholder
``${ADVOCACY_WAREHOUSE_URL_SQLALCHEMY}``, one *table* asset per table),
``expectations/`` (the suites), ``validation_definitions/`` and
``checkpoints/advocacy_gate.json`` are committed; ``uncommitted/``
(validation results, Data Docs) is git-ignored.

``sync_project`` regenerates all of it from the catalog and ``suites.py``;
it keeps existing ids so an unchanged catalog gives an unchanged tree.
Run it after editing the catalog::

    uv run python -m advocacy.quality.project sync
"""

from __future__ import annotations

import contextlib
import logging
import os
import warnings
from collections.abc import Iterator
from pathlib import Path

from advocacy.quality.catalog import TABLES, Table
from advocacy.warehouse import WarehouseTarget

log = logging.getLogger(__name__)

PROJECT_ENV = "ADVOCACY_EXPECTATIONS_DIR"
URL_ENV = "ADVOCACY_WAREHOUSE_URL_SQLALCHEMY"
DATASOURCE = "warehouse"
BATCH_DEFINITION = "whole_table"
CHECKPOINT = "advocacy_gate"
DATA_DOCS_SITE = "local_site"


def project_root() -> Path:
    """``$ADVOCACY_EXPECTATIONS_DIR`` or ``expectations/`` at the repository root."""
    env = os.environ.get(PROJECT_ENV)
    return Path(env) if env else Path(__file__).resolve().parents[3] / "expectations"


def quiet_gx() -> None:
    """Silence GX's import-time INFO flood and its analytics; call before importing it."""
    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")


@contextlib.contextmanager
def warehouse_env(target: WarehouseTarget, search_path: str | None = None) -> Iterator[None]:
    """Point the data source placeholder at ``target`` for the duration of a run; ``search_path``:
    the schema unqualified names in SQL checks resolve to (the marts being validated)."""
    from urllib.parse import quote

    before = os.environ.get(URL_ENV)
    url = target.sqlalchemy_url
    if search_path:
        url += ("&" if "?" in url else "?") + "options=" + quote(f"-c search_path={search_path}", safe="")
    os.environ[URL_ENV] = url
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(URL_ENV, None)
        else:
            os.environ[URL_ENV] = before


def open_context(root: Path | None = None):
    """The file context under ``root`` (default: the committed project)."""
    quiet_gx()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import great_expectations as gx

        return gx.get_context(mode="file", project_root_dir=str(root or project_root()))


# Table assets, never query assets (``select * from schema.table``): for a query asset GX 1.x
# learns the batch's column names by running the query itself (``column_reflection_fallback``
# executes the bare query, and psycopg2 buffers every row client-side), so the gate read each
# table whole into Python: 8.6 GB peak RSS at the bench's large size, from the raw posts table.
# A table asset is introspected from the catalog and every metric is SQL against the table.


def _is_table_asset(asset, table: Table) -> bool:
    return (
        getattr(asset, "type", None) == "table"
        and str(asset.table_name) == table.table
        and asset.schema_name == table.schema
    )


def _add_table_asset(ds, name: str, table: Table):
    """A table asset for ``table``; the table need not exist yet (catalog entries may run ahead of
    dbt, the runner skips a missing table), so GX's probe query on adding it is skipped."""
    from unittest import mock

    with warnings.catch_warnings(), mock.patch.object(ds._TableAsset, "test_connection", lambda self: None):
        # `schema_name` is deprecated since GX 1.14 in favour of a schema in the connection
        # settings, which Postgres data sources do not have: the gate reads two schemas.
        warnings.simplefilter("ignore", DeprecationWarning)
        return ds.add_table_asset(name=name, table_name=table.table, schema_name=table.schema)


def sync_project(target: WarehouseTarget | None = None, root: Path | None = None) -> list[str]:
    """Write the catalog's suites, assets, validation definitions and checkpoint into the project.

    Needs a reachable warehouse (GX tests the data source connection when it
    is saved); the tables themselves need not exist. Returns the suite names.
    """
    from advocacy import warehouse
    from advocacy.quality.suites import build_suite, keep_ids

    target = target or warehouse.resolve()
    with warehouse_env(target):
        ctx = open_context(root)
        import great_expectations as gx
        from great_expectations.data_context.types.base import ProgressBarsConfig
        from great_expectations.exceptions import DataContextError

        ctx.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
        ctx.variables.analytics_enabled = False
        ctx.variables.save()

        placeholder = "${" + URL_ENV + "}"
        sources = ctx.data_sources.all()
        if DATASOURCE in sources and str(sources[DATASOURCE].connection_string) == placeholder:
            ds = sources[DATASOURCE]
        else:
            ds = ctx.data_sources.add_or_update_postgres(name=DATASOURCE, connection_string=placeholder)

        wanted = {t.qualified: t for t in TABLES}
        for name in sorted(set(ds.get_asset_names()) - set(wanted)):
            ds.delete_asset(name)
        definitions = []
        for name, table in wanted.items():
            if name in ds.get_asset_names() and not _is_table_asset(ds.get_asset(name), table):
                ds.delete_asset(name)  # e.g. an earlier query asset
            if name not in ds.get_asset_names():
                _add_table_asset(ds, name, table)
            asset = ds.get_asset(name)
            try:
                batch = asset.get_batch_definition(BATCH_DEFINITION)
            except KeyError:
                batch = asset.add_batch_definition_whole_table(BATCH_DEFINITION)
            suite = build_suite(table)
            with contextlib.suppress(DataContextError):
                keep_ids(suite, ctx.suites.get(name))
            suite = ctx.suites.add_or_update(suite)
            definitions.append(
                ctx.validation_definitions.add_or_update(
                    gx.ValidationDefinition(name=name, data=batch, suite=suite)
                )
            )

        for vd in ctx.validation_definitions.all():
            if vd.name not in wanted:
                ctx.validation_definitions.delete(vd.name)
        for suite in ctx.suites.all():
            if suite.name not in wanted:
                ctx.suites.delete(suite.name)

        ctx.checkpoints.add_or_update(
            gx.Checkpoint(
                name=CHECKPOINT,
                validation_definitions=definitions,
                actions=[gx.checkpoint.UpdateDataDocsAction(name="update_data_docs")],
                result_format={"result_format": "SUMMARY", "partial_unexpected_count": 5},
            )
        )
    log.info("GX project synced: %s suites in %s", len(wanted), root or project_root())
    return list(wanted)


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m advocacy.quality.project")
    parser.add_argument("command", choices=["sync"], help="write the catalog's suites into expectations/gx/")
    parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    names = sync_project()
    print(f"{len(names)} suites written to {project_root() / 'gx'}")
    return 0


# Not a __main__.py: Airflow imports every file under plugins/ as a module named
# after the file, and a file named __main__ would run (and exit) inside Airflow.
if __name__ == "__main__":
    raise SystemExit(main())
