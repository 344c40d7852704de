"""The platform registry: what is platform-specific, described once per platform.

One :class:`Platform` entry per platform the pipeline can read: its name
(``settings.platforms.<name>``, ``advocacy.connectors.<name>``, the raw schema's
source), the name the report prints, the roster column with the advocate's
account, the ``utm_source`` spellings that mean it, how its API writes
timestamps, the benchmark audience per advocate (None: no published benchmark),
the Airflow pool its extract runs in by default, and its streams with the
field keying and the field dating each record.

Everything else reads these facts from here (issue 13, item 1: a platform is
described once): ``inputs`` (roster columns, self-reported names), ``load``
(repeat streams), ``utm``, ``report``, ``quality``, ``settings`` (the names a
typo may mean), the connectors' ``STREAMS``, and dbt through the var
``platform_registry`` (``dbt_registry()``, passed by ``settings.dbt_vars()``),
whose default and dbt_project.yml's staging switches are generated from here::

    uv run python -m advocacy.platforms --write   # after editing the registry

``tests/test_platform_registry.py`` fails when a generated file is stale and on any
tracked file naming a platform outside the registry and each platform's own places.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType


@dataclass(frozen=True)
class StreamFacts:
    """A raw stream: the field keying a record, the one dating it (None: undated), the
    dbt staging model reading it (None: read together with another stream), and whether its
    records are nightly snapshots of the same objects, stored as repeats (``load.REPEAT_STREAMS``)."""

    key: str
    time: str | None = None
    staging_model: str | None = None
    repeats: bool = False


@dataclass(frozen=True)
class Platform:
    """One platform's facts; see the module docstring."""

    name: str
    display_name: str
    roster_column: str
    #: how the roster value identifies the author in staging: 'username' (matched
    #: lowercase) or 'user_id' (matched as written)
    author_key: str
    #: what the roster column holds, for its column docs ('handle', 'user id', 'member URN')
    account_kind: str
    #: lowercase spellings of utm_source (and self-reported platforms) meaning this platform
    utm_aliases: tuple[str, ...]
    #: the utm_source written for this platform
    utm_source: str
    #: how the API writes a post's time: 'iso8601_z' (2026-03-04T10:15:00.000Z),
    #: 'iso8601_offset' (2026-03-04T10:15:00+0000), 'epoch_ms' (1772619300000)
    timestamp_format: str
    #: benchmark average audience per advocate (None: none published)
    benchmark_audience: int | None
    streams: MappingProxyType = field(default_factory=lambda: MappingProxyType({}))
    #: the stream whose keys come back to the connector as lookback_ids
    posts_stream: str = ""
    #: the roster column is optional in the HR export (added after the first platforms)
    roster_column_optional: bool = False
    #: the referral and earned-media KPIs keep a row for it even on a night it is disabled
    #: (the first platforms, which docs/metrics.md's baselines count); False: only when enabled
    always_reported: bool = True
    #: the sandbox module serving its API look-alike (``advocacy.sandbox.<sandbox>``; default:
    #: the platform's name; one module may serve several platforms, as Graph does)
    sandbox: str = ""

    @property
    def sandbox_module(self) -> str:
        """The sandbox module that mounts this platform's API (``server.PLATFORM_MODULES``)."""
        return f"advocacy.sandbox.{self.sandbox or self.name}"

    @property
    def default_pool(self) -> str:
        """The Airflow pool of its extract unless the settings name another."""
        return f"{self.name}_api"


#: the platform a tracked link is for when ``advocacy utm`` is given none (``--platform``)
UTM_DEFAULT_PLATFORM = "linkedin"


def _streams(**streams: StreamFacts) -> MappingProxyType:
    return MappingProxyType(dict(streams))


REGISTRY: MappingProxyType[str, Platform] = MappingProxyType(
    {
        "x": Platform(
            name="x",
            display_name="X",
            roster_column="x_username",
            account_kind="handle",
            author_key="username",
            utm_aliases=("x", "twitter", "t.co", "x.com", "twitter.com"),
            utm_source="x",
            timestamp_format="iso8601_z",
            benchmark_audience=772,
            streams=_streams(
                users=StreamFacts("id", None, "stg_x__audience"),
                tweets=StreamFacts("id", "created_at", "stg_x__posts", repeats=True),
                tweet_errors=StreamFacts("resource_id", None, "stg_x__post_errors"),
                user_errors=StreamFacts("resource_id", None, "stg_x__account_errors"),
            ),
            posts_stream="tweets",
        ),
        "facebook": Platform(
            name="facebook",
            display_name="Facebook",
            roster_column="facebook_user_id",
            account_kind="user id",
            author_key="user_id",
            utm_aliases=("facebook", "fb", "facebook.com", "m.facebook.com", "l.facebook.com"),
            utm_source="facebook",
            timestamp_format="iso8601_offset",
            benchmark_audience=433,
            streams=_streams(
                pages=StreamFacts("id"),
                users=StreamFacts("id"),
                posts=StreamFacts("id", "created_time", "stg_facebook__posts"),
                post_errors=StreamFacts("id", None, "stg_facebook__post_errors"),
                member_errors=StreamFacts("member"),
            ),
            posts_stream="posts",
            sandbox="graph",  # the Graph API serves Facebook Pages and Instagram
        ),
        "instagram": Platform(
            name="instagram",
            display_name="Instagram",
            roster_column="instagram_username",
            account_kind="handle",
            author_key="username",
            utm_aliases=("instagram", "ig", "instagram.com", "l.instagram.com"),
            utm_source="instagram",
            timestamp_format="iso8601_offset",
            benchmark_audience=None,
            streams=_streams(
                accounts=StreamFacts("id", None, "stg_instagram__audience"),
                media=StreamFacts("id", "timestamp", "stg_instagram__posts"),
                hashtags=StreamFacts("id"),
                account_errors=StreamFacts("username"),
            ),
            posts_stream="media",
            sandbox="graph",  # the Graph API serves Facebook Pages and Instagram
        ),
        "linkedin": Platform(
            name="linkedin",
            display_name="LinkedIn",
            roster_column="linkedin_member_urn",
            account_kind="member URN",
            author_key="user_id",
            utm_aliases=("linkedin", "lnkd.in", "linkedin.com"),
            utm_source="linkedin",
            timestamp_format="epoch_ms",
            benchmark_audience=459,
            streams=_streams(
                network_sizes=StreamFacts("_urn", None, "stg_linkedin__audience"),
                posts=StreamFacts("id", "createdAt", "stg_linkedin__posts"),
                post_errors=StreamFacts("id", None, "stg_linkedin__post_errors"),
                member_errors=StreamFacts("member"),
            ),
            posts_stream="posts",
        ),
        "bluesky": Platform(
            name="bluesky",
            display_name="Bluesky",
            roster_column="bluesky_handle",
            account_kind="handle",
            author_key="username",
            utm_aliases=("bluesky", "bsky", "bsky.app", "bsky.social", "go.bsky.app"),
            utm_source="bluesky",
            timestamp_format="iso8601_z",
            benchmark_audience=None,
            streams=_streams(
                profiles=StreamFacts("did", None, "stg_bluesky__audience"),
                posts=StreamFacts("uri", "_created_at", "stg_bluesky__posts"),
                post_errors=StreamFacts("uri", None, "stg_bluesky__post_errors"),
                actor_errors=StreamFacts("actor", None, "stg_bluesky__actor_errors"),
            ),
            posts_stream="posts",
            roster_column_optional=True,
            always_reported=False,
        ),
    }
)


def get(name: str) -> Platform:
    """The registry entry of ``name``; a clear error naming the known platforms otherwise."""
    try:
        return REGISTRY[name]
    except KeyError:
        known = ", ".join(REGISTRY)
        where = "the registry (advocacy/platforms.py)"
        raise KeyError(f"no platform '{name}' in {where}: one of {known}") from None


def default_pool(name: str) -> str:
    """The Airflow pool of ``name``'s extract unless the settings name another (a connector
    without a registry entry yet gets the same ``<name>_api``)."""
    return REGISTRY[name].default_pool if name in REGISTRY else f"{name}_api"


def names() -> tuple[str, ...]:
    return tuple(REGISTRY)


def roster_columns(*, optional: bool | None = None) -> tuple[str, ...]:
    """The roster's account columns, in registry order (``optional``: only those / none of those)."""
    return tuple(
        p.roster_column for p in REGISTRY.values() if optional is None or p.roster_column_optional == optional
    )


def utm_sources() -> dict[str, str]:
    """Every accepted spelling -> the utm_source written (as ``utm.PLATFORM_SOURCES``)."""
    return {alias: p.utm_source for p in REGISTRY.values() for alias in p.utm_aliases}


def display_names() -> dict[str, str]:
    return {p.name: p.display_name for p in REGISTRY.values()}


def benchmark_audiences() -> dict[str, int]:
    """Platforms with a published benchmark audience per advocate."""
    return {p.name: p.benchmark_audience for p in REGISTRY.values() if p.benchmark_audience is not None}


def repeat_streams() -> frozenset[tuple[str, str]]:
    """(platform, stream) of the streams stored as repeats (``StreamFacts.repeats``)."""
    return frozenset((p.name, s) for p in REGISTRY.values() for s, f in p.streams.items() if f.repeats)


def self_report_names() -> frozenset[str]:
    """The spellings of a registry platform a self-report may carry: its name and its
    ``utm_aliases`` that are words, not domains."""
    return frozenset({p.name for p in REGISTRY.values()}) | {
        a for p in REGISTRY.values() for a in p.utm_aliases if "." not in a
    }


def dbt_registry() -> dict[str, dict]:
    """What dbt reads of each platform (macro ``platform_registry()``): the roster column and
    what it identifies, the ``utm_source`` spellings, whether the KPIs always report it, and the
    streams read by a staging model of their own. Passed as the dbt var ``platform_registry``;
    its default is the generated macro (``python -m advocacy.platforms --write``)."""
    return {
        p.name: {
            "roster_handle_column": p.roster_column,
            "roster_column_optional": p.roster_column_optional,
            "author_key": p.author_key,
            "utm_aliases": list(p.utm_aliases),
            "utm_source": p.utm_source,
            "always_reported": p.always_reported,
            "streams": {s: f.staging_model for s, f in p.streams.items() if f.staging_model},
        }
        for p in REGISTRY.values()
    }


# --------------------------------------------------------------------------------------------
# Files generated from the registry for dbt, which cannot import Python: the default of the
# var ``platform_registry`` (a macro), dbt_project.yml's per-platform staging switches, the
# roster column docs and the seed ``benchmark_audience``.
# tests/test_platform_registry.py fails when they differ from what the registry generates.

_REPO = Path(__file__).resolve().parents[2]
DBT_MACRO = _REPO / "dbt_project" / "macros" / "platforms" / "platform_registry_generated.sql"
DBT_PROJECT = _REPO / "dbt_project" / "dbt_project.yml"
BENCHMARK_SEED = _REPO / "dbt_project" / "seeds" / "benchmark_audience.csv"
ROSTER_YML = _REPO / "dbt_project" / "models" / "staging" / "roster" / "_roster__models.yml"
EMPLOYEES_YML = _REPO / "dbt_project" / "models" / "intermediate" / "employees" / "_employees__models.yml"
_BEGIN = "# BEGIN generated by `python -m advocacy.platforms --write`"
_END = "# END generated"


def dbt_macro_text() -> str:
    body = json.dumps(dbt_registry(), indent=4)
    body = "\n".join("    " + line for line in body.splitlines())
    return (
        "{# Generated by `uv run python -m advocacy.platforms --write` from advocacy/platforms.py:\n"
        "   do not edit. The default of var('platform_registry') (macro platform_registry). #}\n"
        "{% macro platform_registry_generated() %}\n"
        "    {{ return(\n"
        f"{body}\n"
        "    ) }}\n"
        "{% endmacro %}\n"
    )


def _staging_switches(indent: str) -> list[str]:
    """dbt_project.yml: a platform switched off in the settings drops out of staging
    (dbt_project.yml cannot see its own vars, so the default is repeated)."""
    out = []
    for p in REGISTRY:
        out += [
            f"{indent}{p}:",
            f"{indent}  +enabled: \"{{{{ '{p}' in var('enabled_platforms', ['x']) }}}}\"",
        ]
    return out


def _roster_column_docs(indent: str) -> list[str]:
    """The roster's account columns in a model's yml: described, tagged pii."""
    out = []
    for p in REGISTRY.values():
        doc = f"{p.display_name} {p.account_kind}"
        if p.author_key == "username":
            doc += ", lowercase, without '@'"
        if p.roster_column_optional:
            doc += " (optional roster column; null when the export has none)"
        out += [
            f"{indent}- name: {p.roster_column}",
            f"{indent}  description: {doc}.",
            f"{indent}  config: {{tags: [pii]}}",
        ]
    return out


_BLOCKS = {"one switch per platform": _staging_switches, "one column per platform": _roster_column_docs}


def fill_generated_blocks(text: str) -> str:
    """``text`` with each block between a BEGIN and an END marker line regenerated (the
    BEGIN line names the kind of block; its indentation is the block's)."""
    out, lines, i = [], text.split("\n"), 0
    while i < len(lines):
        line = lines[i]
        out.append(line)
        i += 1
        if _BEGIN not in line:
            continue
        kind = line.split(_BEGIN, 1)[1].lstrip(": ").strip()
        indent = line[: len(line) - len(line.lstrip())]
        out += _BLOCKS[kind](indent)
        while _END not in lines[i]:
            i += 1
    return "\n".join(out)


def benchmark_seed_text() -> str:
    """The seed ``benchmark_audience``: a row per platform, empty where none is published."""
    rows = ["platform,benchmark_avg_audience,benchmark_source"]
    for p in REGISTRY.values():
        if p.benchmark_audience is None:
            rows.append(f"{p.name},,no benchmark configured yet")
        else:
            source = "seed research benchmark: average audience per advocate (docs/metrics.md)"
            rows.append(f"{p.name},{p.benchmark_audience},{source}")
    return "\n".join(rows) + "\n"


def generated_files() -> dict[Path, str]:
    """Each generated file -> the text the registry gives it."""
    out = {DBT_MACRO: dbt_macro_text(), BENCHMARK_SEED: benchmark_seed_text()}
    for f in (DBT_PROJECT, ROSTER_YML, EMPLOYEES_YML):
        out[f] = fill_generated_blocks(f.read_text(encoding="utf-8"))
    return out


def main(argv: list[str]) -> int:
    wanted = generated_files()
    stale = [f for f, text in wanted.items() if not f.exists() or f.read_text(encoding="utf-8") != text]
    if "--write" in argv:
        for f in stale:
            f.write_text(wanted[f], encoding="utf-8")
            print(f"wrote {f.relative_to(_REPO)}")
        return 0
    for f in stale:
        fix = "uv run python -m advocacy.platforms --write"
        print(f"{f.relative_to(_REPO)} differs from the registry (run: {fix})")
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
