"""Per-platform pools: named and sized from the settings, created idempotently in Airflow's DB."""

from __future__ import annotations

import dataclasses

import pytest
from advocacy import pools
from advocacy.settings import load_settings


def _with(settings, **platforms):
    """The settings with some platforms' fields replaced, e.g. x={"pool_slots": 2}."""
    changed = {
        name: dataclasses.replace(p, **platforms.get(name, {})) for name, p in settings.platforms.items()
    }
    return dataclasses.replace(settings, platforms=changed)


def test_one_pool_per_enabled_platform_with_one_slot_by_default():
    settings = load_settings()
    specs = pools.pool_specs(settings)
    assert [s.name for s in specs] == [f"{p}_api" for p in settings.enabled_platforms()]
    assert {s.slots for s in specs} == {1}


def test_platforms_naming_one_pool_share_it_and_must_agree_on_slots():
    settings = load_settings()
    if not {"facebook", "instagram"} <= set(settings.enabled_platforms()):
        pytest.skip("the demo settings do not enable both Graph platforms")
    shared = _with(settings, facebook={"pool": "graph_api", "pool_slots": 2},
                   instagram={"pool": "graph_api", "pool_slots": 2})  # fmt: skip
    graph = [s for s in pools.pool_specs(shared) if s.name == "graph_api"]
    assert len(graph) == 1 and graph[0].slots == 2 and graph[0].platforms == ("facebook", "instagram")

    clash = _with(shared, instagram={"pool": "graph_api", "pool_slots": 3})
    with pytest.raises(ValueError, match="graph_api"):
        pools.pool_specs(clash)


def test_disabled_platforms_get_no_pool():
    settings = load_settings()
    first = settings.enabled_platforms()[0]
    off = _with(settings, **{first: {"enabled": False}})
    assert f"{first}_api" not in pools.pools_json(off)


@pytest.mark.slow
def test_ensure_pools_creates_then_updates_in_the_metadata_db():
    from advocacy import cli

    cli.airflow_env()
    cli.ensure_airflow_db()
    settings = load_settings()
    first = settings.enabled_platforms()[0]
    assert pools.ensure_pools(settings)[f"{first}_api"] == 1
    assert pools.ensure_pools(_with(settings, **{first: {"pool_slots": 3}}))[f"{first}_api"] == 3

    from airflow.models.pool import Pool

    pool = Pool.get_pool(f"{first}_api")
    assert pool is not None and pool.slots == 3
    assert {p.pool for p in Pool.get_pools()} >= {s.name for s in pools.pool_specs(settings)}
