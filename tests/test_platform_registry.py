"""The platform registry states the same facts as the places that still carry them."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest
from advocacy import inputs, platforms, utm
from advocacy.report import formatting, render

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("name", platforms.names())
def test_connector_streams_match_the_registry(name):
    mod = importlib.import_module(f"advocacy.connectors.{name}")
    entry = platforms.get(name)
    assert {s: (d.key, d.time) for s, d in mod.STREAMS.items()} == {
        s: (f.key, f.time) for s, f in entry.streams.items()
    }
    assert entry.posts_stream == mod.POSTS_STREAM
    assert entry.roster_column == mod.ROSTER_HANDLE_COLUMN


def test_roster_columns_match_inputs():
    required = platforms.roster_columns(optional=False)
    assert all(c in inputs.ROSTER_COLUMNS for c in required)
    assert platforms.roster_columns(optional=True) == inputs.ROSTER_OPTIONAL_COLUMNS


def test_utm_sources_display_names_and_benchmarks_match():
    sources = platforms.utm_sources()
    for alias, source in utm.PLATFORM_SOURCES.items():
        assert sources[alias] == source
    assert utm.source_for("bluesky") == "bluesky"
    names = platforms.display_names()
    for code, display in formatting.PLATFORM_NAMES.items():
        if code != "ALL":
            assert names[code] == display
    assert formatting.platform_name("bluesky") == "Bluesky"
    assert platforms.benchmark_audiences() == render.AUDIENCE_BENCHMARKS


def test_dbt_macro_registry_matches():
    macro = (ROOT / "dbt_project/macros/platforms/platform_registry.sql").read_text()
    for name, facts in platforms.dbt_registry().items():
        block = macro.split(f"'{name}': {{", 1)[1].split("'streams'", 1)
        assert f"'roster_handle_column': '{facts['roster_handle_column']}'" in block[0]
        assert f"'author_key': '{facts['author_key']}'" in block[0]
        listed = dict(re.findall(r"'(\w+)': '(stg_\w+)'", block[1].split("}", 1)[0]))
        assert listed == facts["streams"], name


def test_unknown_platform_is_named():
    with pytest.raises(KeyError, match="no platform 'myspace'.*x, facebook"):
        platforms.get("myspace")
