"""``probe()`` of every connector against the sandbox over HTTP: one documented call each,
findings for the token, the permissions, the API version and the rate-limit headroom."""

from __future__ import annotations

import datetime as dt
import json
from types import SimpleNamespace

import pytest
from advocacy.connectors import facebook, instagram, linkedin, x
from advocacy.preflight import Finding
from advocacy.sandbox.company import X_HANDLE
from advocacy.sandbox.server import running_sandbox

NOW = dt.datetime(2026, 11, 22, 3, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def sandbox(social_company):
    with running_sandbox(company=social_company, now=NOW) as sb:
        yield sb


def _conn(monkeypatch, conn_id: str, url: str, token: str, **extra) -> None:
    monkeypatch.setenv(
        f"AIRFLOW_CONN_{conn_id.upper()}",
        json.dumps({"conn_type": "http", "host": url, "password": token, "extra": extra}),
    )


def _by_what(findings: list[Finding]) -> dict[str, Finding]:
    assert findings and all(isinstance(f, Finding) for f in findings)
    assert all(f.fix for f in findings if f.level != "ok")  # every problem says what to do
    return {f.what.split(": ", 1)[1]: f for f in findings}


def test_linkedin_probe(sandbox, social_company, monkeypatch):
    org = social_company.social.ids()["linkedin_organization_urn"]
    ps = SimpleNamespace(connection_id="li_probe", company_handles=(org,))
    _conn(monkeypatch, "li_probe", sandbox.url, "sandbox-linkedin-token", api_version=f"{NOW:%Y%m}")
    found = _by_what(linkedin.probe(None, ps))
    assert found["organisation token"].level == "ok" and found["API version"].level == "ok"
    assert found["member tokens"].level == "warn"  # none configured
    _conn(monkeypatch, "li_probe", sandbox.url, "not-a-token", api_version=f"{NOW:%Y%m}")
    assert _by_what(linkedin.probe(None, ps))["organisation token"].level == "fail"
    _conn(monkeypatch, "li_probe", sandbox.url, "sandbox-linkedin-token", api_version="202301")
    assert _by_what(linkedin.probe(None, ps))["API version"].level == "fail"
    assert (
        _by_what(linkedin.probe(None, SimpleNamespace(connection_id="nope", company_handles=())))[
            "connection"
        ].level
        == "fail"
    )


def test_graph_probes(sandbox, social_company, monkeypatch):
    ids = social_company.social.ids()
    _conn(monkeypatch, "fb_probe", sandbox.url, "sandbox-graph-token")
    found = _by_what(
        facebook.probe(
            None, SimpleNamespace(connection_id="fb_probe", company_handles=(ids["facebook_page_id"],))
        )
    )
    assert found["token"].level == "ok" and found["API version"].level == "ok" and "rate limit" in found
    ig_ps = SimpleNamespace(connection_id="fb_probe", company_handles=(ids["instagram_user_id"],))
    settings = SimpleNamespace(hashtags=[f"tag{i}" for i in range(31)])
    found = _by_what(instagram.probe(settings, ig_ps))
    assert found["token"].level == "ok" and found["hashtags"].level == "warn"
    _conn(
        monkeypatch, "fb_probe", sandbox.url, "sandbox-graph-token", api_version="20.0"
    )  # expired 2026-09-24
    assert _by_what(
        facebook.probe(
            None, SimpleNamespace(connection_id="fb_probe", company_handles=(ids["facebook_page_id"],))
        )
    )["API version"].level in ("warn", "fail")
    _conn(monkeypatch, "fb_probe", sandbox.url, "wrong")
    assert (
        _by_what(
            facebook.probe(
                None, SimpleNamespace(connection_id="fb_probe", company_handles=(ids["facebook_page_id"],))
            )
        )["token"].level
        == "fail"
    )


def test_x_probe(sandbox, monkeypatch):
    ps = SimpleNamespace(connection_id="x_probe", company_handles=(X_HANDLE,))
    _conn(monkeypatch, "x_probe", sandbox.url, "sandbox-x-token")
    found = _by_what(x.probe(None, ps))
    assert found["token"].level == "ok" and found["rate limit"].level == "ok"
    assert "%" in found["rate limit"].detail  # the sandbox sends x-rate-limit-* like X
    _conn(monkeypatch, "x_probe", sandbox.url, "wrong")
    assert _by_what(x.probe(None, ps))["token"].level == "fail"
