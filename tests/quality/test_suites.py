"""The committed GX project is exactly what the Python suites generate, and holds no secrets."""

from __future__ import annotations

import filecmp
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from advocacy.quality.catalog import MARTS, TABLES, Chart, Series, Table
from advocacy.quality.project import CHECKPOINT, URL_ENV

GX = Path(__file__).resolve().parents[2] / "expectations" / "gx"
HINT = (
    "the committed suites are stale: run `uv run python -m advocacy.quality.project sync` "
    "and commit expectations/"
)


def test_committed_suite_json_matches_the_python_suites():
    from advocacy.quality.suites import build_suite, comparable

    committed = {p.relative_to(GX / "expectations") for p in (GX / "expectations").rglob("*.json")}
    assert committed == {
        (GX / "expectations" / t.schema / f"{t.table}.json").relative_to(GX / "expectations") for t in TABLES
    }, HINT
    for table in TABLES:
        on_disk = json.loads((GX / "expectations" / table.schema / f"{table.table}.json").read_text())
        generated = build_suite(table).to_json_dict()
        assert comparable(on_disk) == comparable(generated), f"{table.qualified}: {HINT}"


def test_checkpoint_runs_every_catalog_table():
    checkpoint = json.loads((GX / "checkpoints" / f"{CHECKPOINT}.json").read_text())
    assert [vd["name"] for vd in checkpoint["validation_definitions"]] == [t.qualified for t in TABLES], HINT
    for table in TABLES:
        vd = json.loads((GX / "validation_definitions" / f"{table.qualified}.json").read_text())
        assert vd["suite"]["name"] == table.qualified
        assert vd["data"]["asset"]["name"] == table.qualified


def test_connection_string_is_a_placeholder_and_nothing_secret_is_committed():
    config = (GX / "great_expectations.yml").read_text()
    assert f"connection_string: ${{{URL_ENV}}}" in config
    for path in GX.rglob("*"):
        if path.is_file() and "uncommitted" not in path.parts:
            text = path.read_text(errors="ignore")
            assert "postgresql://" not in text and "postgresql+psycopg2://" not in text, path
    assert "progress_bars" in config and "globally: false" in config


def test_sync_reproduces_the_committed_project(warehouse, tmp_path):
    """Syncing over a copy of the committed project changes nothing (ids are kept stable)."""
    from advocacy.quality import sync_project

    shutil.copytree(GX, tmp_path / "gx", ignore=shutil.ignore_patterns("uncommitted"))
    sync_project(warehouse, root=tmp_path)

    def differences(cmp: filecmp.dircmp) -> list[str]:
        out = [f"{cmp.left}/{n}" for n in cmp.diff_files + cmp.left_only + cmp.right_only]
        for name, sub in cmp.subdirs.items():
            if name != "uncommitted":
                out += differences(sub)
        return out

    cmp = filecmp.dircmp(GX, tmp_path / "gx", ignore=["uncommitted", "__pycache__"])
    assert differences(cmp) == [], HINT


def test_importing_the_package_does_not_import_great_expectations():
    code = "import sys, advocacy.quality, advocacy.report; print('great_expectations' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_catalog_entries_are_checked():
    with pytest.raises(ValueError, match="not in its columns"):
        Table(table="t", title="T", columns=("month",), keys=("month", "platform"))
    with pytest.raises(ValueError, match="either series or split_by"):
        Chart(title="c")
    with pytest.raises(ValueError, match="line"):
        Chart(title="c", kind="pie", series=(Series("a", "a"),))
    # every KPI mart is published as CSV; rates never include month-over-month or uplift columns
    for mart in MARTS:
        if mart.table.startswith("kpi_"):
            assert mart.csv, mart.table
        assert not any(r.endswith("_mom") or r == "personalised_uplift" for r in mart.rates)
    names = [t.qualified for t in TABLES]
    assert len(names) == len(set(names))


REPO = Path(__file__).resolve().parents[2]
METRICS_DOC = REPO / "docs" / "metrics.md"


def _spec_marts() -> dict[str, tuple[str, ...]]:
    """docs/metrics.md's "Required marts" table: model -> its required columns (notes in brackets dropped)."""
    text = METRICS_DOC.read_text()
    block = text[text.index("## Required marts") :].split("\n## ", 1)[0]
    out = {}
    for line in block.splitlines():
        m = re.match(r"\| `(\w+)` \| [^|]+ \| (.+) \|$", line)
        if m:
            cols = re.sub(r"\([^)]*\)", "", m.group(2))
            # "interactions (as of that day) and the *_delta of each": the leading name of each item
            items = [c.strip() for c in cols.split(",")]
            out[m.group(1)] = tuple(c.split()[0] for c in items if c and not c.startswith("and "))
    return out


def test_catalog_covers_every_documented_mart_with_its_columns():
    spec = _spec_marts()
    assert len(spec) >= 14, sorted(spec)
    catalog = {m.table: m for m in MARTS}
    for model, columns in spec.items():
        assert model in catalog, f"{model} (docs/metrics.md) has no catalog entry"
        if model == "kpi_programme_scorecard_monthly":  # "... and the month-over-month change of each rate"
            assert {f"{r}_mom" for r in catalog[model].rates} <= set(catalog[model].columns)
        assert set(columns) <= set(catalog[model].columns), model


def test_catalog_columns_are_in_the_dbt_contracts():
    """Where dbt declares a mart (yml under dbt_project/models/marts), it has every catalog column."""
    import yaml

    declared = {}
    for path in (REPO / "dbt_project" / "models" / "marts").rglob("*.yml"):
        for model in (yaml.safe_load(path.read_text()) or {}).get("models", []):
            declared[model["name"]] = {c["name"] for c in model.get("columns", [])}
    assert "kpi_adoption_monthly" in declared
    for mart in MARTS:
        if mart.table in declared:  # a mart dbt does not declare yet is skipped by gate and report
            missing = set(mart.columns) - declared[mart.table]
            assert not missing, f"{mart.table}: {sorted(missing)} not declared by dbt"


def test_every_asset_is_a_table_asset():
    """No query assets: GX learns a query asset's columns by running the query, and psycopg2 then
    holds the whole table in the gate's memory (8.6 GB at the bench's large size)."""
    import yaml

    config = yaml.safe_load((GX / "great_expectations.yml").read_text())
    assets = config["fluent_datasources"]["warehouse"]["assets"]
    assert set(assets) == {t.qualified for t in TABLES}, HINT
    for table in TABLES:
        asset = assets[table.qualified]
        assert asset["type"] == "table", f"{table.qualified}: {HINT}"
        assert (asset["schema_name"], asset["table_name"]) == (table.schema, table.table)


def test_compound_keys_are_checked_in_sql_not_by_gx_join_back():
    """ExpectCompoundColumnsToBeUnique joins every row back to its key's count on SQL; the
    suites check compound keys with one group-by (see suites.unique_together)."""
    from advocacy.quality.suites import UNIQUE_TOGETHER, build_suite

    for table in TABLES:
        suite = build_suite(table).to_json_dict()
        types = [e["type"] for e in suite["expectations"]]
        assert "expect_compound_columns_to_be_unique" not in types, table.qualified
        checks = [e["meta"].get("check") for e in suite["expectations"] if e.get("meta")]
        assert (UNIQUE_TOGETHER in checks) == (table.unique and len(table.keys) > 1), table.qualified


def test_sync_into_an_empty_project_before_the_tables_exist(warehouse, tmp_path):
    """Catalog entries may run ahead of dbt: sync adds table assets for tables not built yet."""
    from advocacy.quality import sync_project

    shutil.copytree(
        GX,
        tmp_path / "gx",
        ignore=shutil.ignore_patterns("uncommitted", "expectations", "validation_definitions", "checkpoints"),
    )
    config = tmp_path / "gx" / "great_expectations.yml"
    text = config.read_text()
    config.write_text(text[: text.index("fluent_datasources:")])  # no data source, no assets
    with warehouse.connect() as conn:
        assert conn.execute("select to_regclass('marts.kpi_adoption_monthly')").fetchone()[0] is None
    assert sync_project(warehouse, root=tmp_path) == [t.qualified for t in TABLES]
    assert "type: table" in config.read_text() and "type: query" not in config.read_text()
