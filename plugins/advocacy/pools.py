"""Airflow pools that cap concurrent calls to each platform's API.

A platform's rate limit is one budget per app token, however many workers run
its extract tasks. Each platform's extract task runs in the pool named in the
settings (``platforms.<name>.pool``, default ``<name>_api``) whose slot count
(``pool_slots``, default 1) is the number of extracts allowed to call that API at
once across the whole deployment. Platforms that share a token (two
on one Graph app) can share a pool by naming the same one.

``ensure_pools`` creates or updates those pools in the metadata database: the
CLI calls it before a run, the docker stack's init service runs
``python -m advocacy.pools`` after ``airflow db migrate``.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass

from advocacy import platforms
from advocacy.settings import Settings, load_settings


@dataclass(frozen=True)
class PoolSpec:
    name: str
    slots: int
    platforms: tuple[str, ...]

    @property
    def description(self) -> str:
        return f"concurrent API calls to {', '.join(self.platforms)} (advocacy settings)"


def pool_name(settings: Settings, platform: str) -> str:
    return getattr(settings.platforms[platform], "pool", "") or platforms.default_pool(platform)


def pool_specs(settings: Settings) -> list[PoolSpec]:
    """One pool per enabled platform, or per group of platforms naming the same pool."""
    grouped: dict[str, tuple[int, list[str]]] = {}
    for platform in settings.enabled_platforms():
        name = pool_name(settings, platform)
        slots = int(getattr(settings.platforms[platform], "pool_slots", 1) or 1)
        if name in grouped and grouped[name][0] != slots:
            # Two slot counts for one budget: refuse rather than guess which one the API allows.
            raise ValueError(
                f"{settings.source_file}: pool '{name}' has pool_slots {grouped[name][0]} for "
                f"{', '.join(grouped[name][1])} but {slots} for {platform}; make them equal"
            )
        grouped.setdefault(name, (slots, []))[1].append(platform)
    return [PoolSpec(name, slots, tuple(platforms)) for name, (slots, platforms) in grouped.items()]


def pools_json(settings: Settings) -> dict:
    """The pools in the format of ``airflow pools import`` (for deployments that provision by file)."""
    return {
        s.name: {"slots": s.slots, "description": s.description, "include_deferred": False}
        for s in pool_specs(settings)
    }


def ensure_pools(settings: Settings | None = None) -> dict[str, int]:
    """Create or update the platforms' pools in the Airflow metadata DB; returns name -> slots.

    Idempotent: safe to call before every run. Needs the Airflow environment of
    the deployment (``AIRFLOW_HOME`` / ``AIRFLOW__DATABASE__SQL_ALCHEMY_CONN``).
    """
    settings = settings or load_settings()
    specs = pool_specs(settings)
    # Imported here: importing Airflow costs seconds and binds its metadata DB.
    from airflow.models.pool import Pool
    from airflow.utils.session import create_session

    with create_session() as session:
        for s in specs:
            Pool.create_or_update_pool(s.name, s.slots, s.description, False, session=session)
    return {s.name: s.slots for s in specs}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m advocacy.pools", description=__doc__.split("\n\n")[0])
    p.add_argument("--settings", help="programme settings file (default: $ADVOCACY_SETTINGS)")
    p.add_argument("--json", action="store_true", help="print the pools for `airflow pools import`")
    args = p.parse_args(argv)
    settings = load_settings(args.settings)
    if args.json:
        print(json.dumps(pools_json(settings), indent=2))
        return 0
    for name, slots in ensure_pools(settings).items():
        print(f"pool {name}: {slots} slot(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
