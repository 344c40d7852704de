"""Every connector's extract() takes the one signature of base.ExtractArgs, checked by
base.ExtractRequest: the pipeline calls them all alike (issue 13: one connector core)."""

from __future__ import annotations

import datetime as dt
import importlib
import inspect

import pytest
from advocacy import platforms
from advocacy.connectors import base

START = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
END = dt.datetime(2026, 11, 2, tzinfo=dt.UTC)
REQUIRED = dict(advocate_usernames=["a"], company_handles=["b"], window_start=START, window_end=END)


@pytest.mark.parametrize("name", platforms.names())
def test_every_connector_takes_the_one_signature(name):
    mod = importlib.import_module(f"advocacy.connectors.{name}")
    params = list(inspect.signature(mod.extract).parameters.values())
    assert [(p.name, p.kind) for p in params] == [
        ("conn", inspect.Parameter.POSITIONAL_OR_KEYWORD),
        ("args", inspect.Parameter.VAR_KEYWORD),
    ]
    assert "Unpack" in str(params[1].annotation) and "ExtractArgs" in str(params[1].annotation)


def test_the_request_fills_defaults_and_makes_the_window_utc():
    plus_two = dt.timezone(dt.timedelta(hours=2))
    r = base.ExtractRequest.of({**REQUIRED, "window_start": START.astimezone(plus_two), "hashtags": None})
    assert r.window_start == START and r.window_start.tzinfo == dt.UTC
    assert (r.hashtags, r.company_domains, r.lookback_ids) == ([], [], [])
    assert r.lookback_start is None and r.checkpoint is None and r.progress is None


@pytest.mark.parametrize(
    "change, message",
    [
        ({"window_tart": START}, r"unexpected keyword arguments \['window_tart'\]"),
        ({"company_handles": None, "_drop": "company_handles"}, r"missing required .*'company_handles'"),
        ({"window_end": START}, "empty window"),
        ({"window_start": START.replace(tzinfo=None)}, "timezone|naive|aware"),
    ],
)
def test_a_wrong_call_is_refused_naming_the_argument(change, message):
    args = {**REQUIRED, **change}
    args.pop(args.pop("_drop", None) or "", None)
    with pytest.raises((TypeError, ValueError), match=message):
        base.ExtractRequest.of(args)
