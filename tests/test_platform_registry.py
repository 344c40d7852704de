"""The platform registry: the places that read it agree with it, the files generated from it are
current, and no other tracked file names a platform (issue 13, item 1)."""

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
    for p in platforms.REGISTRY.values():
        assert utm.source_for(p.name) == p.utm_source
        assert formatting.platform_name(p.name) == p.display_name
    names = platforms.display_names()
    for code, display in formatting.PLATFORM_NAMES.items():
        if code != "ALL":
            assert names[code] == display
    assert platforms.benchmark_audiences() == render.AUDIENCE_BENCHMARKS


def test_unknown_platform_is_named():
    with pytest.raises(KeyError, match="no platform 'myspace'.*x, facebook"):
        platforms.get("myspace")


WRITE = "uv run python -m advocacy.platforms --write"


def test_generated_files_match_the_registry():
    """dbt reads the registry through files generated from it (the default of var
    ``platform_registry``, dbt_project.yml's staging switches): they must be current."""
    for path, text in platforms.generated_files().items():
        assert path.read_text(encoding="utf-8") == text, (
            f"{path.relative_to(ROOT)} differs from the registry: run `{WRITE}`"
        )


def test_dbt_vars_carry_the_registry():
    from advocacy.settings import DEMO_SETTINGS, load_settings

    assert load_settings(DEMO_SETTINGS).dbt_vars()["platform_registry"] == platforms.dbt_registry()


# --------------------------------------------------------------------------------------------
# "A platform is described once" (issue 13, item 1): no tracked file names a platform outside
# the registry and the places that are each platform's own, or prose, tests and examples.


def _platform_words() -> re.Pattern:
    words, prefixes = set(), set()
    for p in platforms.REGISTRY.values():
        if len(p.name) > 2:
            words |= {p.name, p.display_name}
        else:  # a one-letter name only where it cannot be anything else
            words |= {f"'{p.name}'", f'"{p.name}"'}
        prefixes |= {f"{p.name}__", f"{p.name}_api"}  # raw tables, staging models, connections
        words |= {p.roster_column, *(f.staging_model for f in p.streams.values() if f.staging_model)}
        words |= {a for a in p.utm_aliases if len(a) > 3}
    word = "|".join(sorted((re.escape(w) for w in words), key=len, reverse=True))
    prefix = "|".join(sorted((re.escape(w) for w in prefixes), key=len, reverse=True))
    # a word between non-alphanumerics (AIRFLOW_CONN_FACEBOOK_GRAPH names it too), a prefix before anything
    return re.compile(rf"(?<![a-z0-9])(?:(?:{word})(?![a-z0-9])|(?:{prefix}))", re.I)


# Each platform's own places, prose, tests and examples: they name platforms by nature.
_OWN_PLACES = (
    "plugins/advocacy/platforms.py",  # the registry
    "plugins/advocacy/connectors/",  # each platform's connector (+ the Graph API code two share)
    "plugins/advocacy/sandbox/",  # each platform's sandbox API, the demo company and demo settings
    *(f"dbt_project/models/staging/{p}/" for p in platforms.names()),  # each platform's staging
    "dbt_project/macros/platforms/platform_registry_generated.sql",  # generated from the registry
    "dbt_project/seeds/benchmark_audience.csv",  # generated from the registry
    "tests/",
    "docs/",  # prose (docs/platforms/<name>.md, metrics.md rendered from the marts' docs)
    "docker/connections.env.example",  # a settings example (the platforms' API credentials)
    "uv.lock",  # package names
)
_PROSE = ("README.md", "__unit_tests.yml")  # prose; dbt unit tests (tests: rows on some platform)

# Places that still name a platform, each with the reason it is not (yet) derived from the registry.
ALLOWED = {
    "dbt_project/dbt_project.yml": "the vars' defaults are the demo programme's settings "
    "(enabled_platforms, company_handles); the staging switches are generated",
    "dbt_project/seeds/media_rates.csv": "programme data, not a platform fact: the EXAMPLE CPM/CPC "
    "rates a programme replaces with its own",
    "dbt_project/seeds/_seeds.yml": "media_rates' description quotes its example rates",
    "plugins/advocacy/bench.py": "the benchmark measures one platform's night on purpose: the X "
    "sandbox's year of history through the X connector",
    "pyproject.toml": "a dependency's distribution name (facebook-sdk)",
    "plugins/advocacy/quality/catalog.py": "the gate's raw checks cover the first platform's two raw "
    "tables only; deriving them from the registry would add every platform's raw tables to the "
    "gate, a change of the gate of its own (follow-up)",
    "expectations/gx/": "the GX project generated from quality/catalog.py (quality.project sync)",
}

# Single lines whose text only looks like a platform: (path, a piece of the line) -> why.
ALLOWED_LINES = {
    ("plugins/advocacy/inputs.py", "TRUE_WORDS = "): '"x" there is a ticked box (yes), not the platform',
}


def _offenders() -> dict[str, list[str]]:
    import subprocess

    pattern = _platform_words()
    files = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True, text=True
    ).stdout.split("\0")
    found: dict[str, list[str]] = {}
    for rel in filter(None, files):
        if rel.startswith(_OWN_PLACES) or rel.endswith(_PROSE) or rel.startswith(tuple(ALLOWED)):
            continue
        path = ROOT / rel
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, FileNotFoundError, IsADirectoryError):
            continue
        generated = False
        for no, line in enumerate(text.splitlines(), 1):
            if "BEGIN generated by `python -m advocacy.platforms" in line:
                generated = True
            elif "END generated" in line:
                generated = False
            elif (
                not generated
                and pattern.search(line)
                and not any(rel == f and piece in line for f, piece in ALLOWED_LINES)
            ):
                found.setdefault(rel, []).append(f"{no}: {line.strip()[:100]}")
    return found


def test_no_other_file_names_a_platform():
    found = _offenders()
    listing = "\n".join(f"{f}\n    " + "\n    ".join(lines) for f, lines in sorted(found.items()))
    assert not found, (
        "these files name a platform outside the registry (advocacy/platforms.py) and each "
        "platform's own places: derive it from the registry, or add the file to ALLOWED with "
        f"the reason\n{listing}"
    )


def test_the_allow_list_is_needed():
    pattern = _platform_words()
    for rel in ALLOWED:
        paths = sorted((ROOT / rel).rglob("*.*")) if rel.endswith("/") else [ROOT / rel]
        assert any(pattern.search(p.read_text(encoding="utf-8")) for p in paths), f"{rel} names no platform"
