"""What a night's tools write, published beside its report; nothing in the source tree.

Each run's artifacts go to the publish location (a local path or any fsspec URL, e.g.
``s3://``), in the night's folder::

    <publish>/2026-11-22/index.html                      the report (report/)
    <publish>/2026-11-22/artifacts/<run>/dbt/build/run_results.json   dbt's run results
    <publish>/2026-11-22/artifacts/<run>/dbt/build/manifest.json      dbt's manifest
    <publish>/2026-11-22/artifacts/<run>/data_docs/index.html          GX Data Docs of the gate

``<run>`` is the Airflow run id made safe for a path, so a failed rerun of a published night
adds its own folder instead of changing what the published report links to, and the
failure alert can point at the failed run's results. The worker that ran the task writes
them (Celery or Kubernetes workers included), so they are where people look.

Where the tools would write into the checkout, they are sent to ``$ADVOCACY_HOME``:

* dbt through Cosmos runs in a temporary copy of the project; ``dbt_callback`` (Cosmos's
  ``callback``) copies ``target/run_results.json`` and ``target/manifest.json`` from there,
  after a failed build too;
* ``advocacy``'s own ``dbt parse`` writes ``target/`` and ``logs/`` under
  ``$ADVOCACY_HOME/dbt`` (``orchestration.DBT_TARGET``);
* the GX gate runs on a throwaway copy of the committed project
  (``gx_workspace``): its ``uncommitted/`` (validation results, Data Docs) lives and dies
  under ``$ADVOCACY_HOME/gx-runs/``, the Data Docs of the run being published first.

``links(publish_root, night)`` gives the report ``NightStatus.artifacts``: label -> href
relative to the night's folder.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import fsspec

from advocacy.settings import advocacy_home, load_settings

log = logging.getLogger(__name__)

REPO = Path(__file__).resolve().parents[2]
DBT_FILES = ("run_results.json", "manifest.json")
LABELS = {
    "run_results.json": "dbt run results",
    "manifest.json": "dbt manifest",
    "data_docs": "Data Docs (Great Expectations)",
}


def run_slug(run_id: str) -> str:
    """An Airflow run id as one safe path segment (``manual__2026-11-23T03:00:00+00:00`` ->
    ``manual__2026-11-23T03-00-00-00-00``)."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", str(run_id)).strip("-") or "run"


def _night(value) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])


def run_folder(publish_root: str, night, run_id: str) -> str:
    return f"{publish_root.rstrip('/')}/{_night(night).isoformat()}/artifacts/{run_slug(run_id)}"


def _put_file(local: Path, url: str) -> None:
    fs, path = fsspec.core.url_to_fs(url)
    fs.makedirs(path.rsplit("/", 1)[0], exist_ok=True)
    fs.put_file(str(local), path)


def _put_tree(local: Path, url: str) -> int:
    count = 0
    for f in sorted(local.rglob("*")):
        if f.is_file():
            _put_file(f, f"{url}/{f.relative_to(local).as_posix()}")
            count += 1
    return count


# ---------------------------------------------------------------------------------------------
# dbt


def dbt_callback(project_dir: str, context=None, **kwargs) -> list[str]:
    """Cosmos ``callback``: publish the run's ``run_results.json`` and ``manifest.json``."""
    context = context or {}
    ti = context.get("ti") or context.get("task_instance")
    task = (getattr(ti, "task_id", None) or "build").split(".")[-1]
    run_id = context.get("run_id") or getattr(ti, "run_id", None) or "manual"
    night = context.get("ds") or dt.date.today().isoformat()
    dest = f"{run_folder(load_settings().publish_path, night, run_id)}/dbt/{task}"
    published = []
    for name in DBT_FILES:
        src = Path(project_dir) / "target" / name
        if src.exists():
            _put_file(src, f"{dest}/{name}")
            published.append(f"{dest}/{name}")
    log.info("dbt artifacts published: %s", ", ".join(published) or "none (dbt wrote no target/)")
    return published


# ---------------------------------------------------------------------------------------------
# Great Expectations


@contextlib.contextmanager
def gx_workspace(night, run_id: str, publish_root: str | None = None) -> Iterator[Path]:
    """A throwaway copy of the committed GX project for one validation run.

    Yields the folder to pass as ``project_root`` (it holds ``gx/``); on leaving, the run's
    Data Docs are published to ``<night>/artifacts/<run>/data_docs`` and the copy removed.
    """
    from advocacy.quality.project import project_root

    source = project_root() / "gx"
    work = advocacy_home() / "gx-runs" / run_slug(run_id)
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(source, work / "gx", ignore=shutil.ignore_patterns("uncommitted"))
    try:
        yield work
    finally:
        site = work / "gx" / "uncommitted" / "data_docs" / "local_site"
        if site.is_dir():
            try:
                root = publish_root or load_settings().publish_path
                dest = f"{run_folder(root, night, run_id)}/data_docs"
                n = _put_tree(site, dest)
                log.info("GX Data Docs published: %s (%s files)", dest, n)
            except Exception as exc:  # the gate's verdict matters more than its pages
                log.warning("could not publish the GX Data Docs: %s", exc)
        shutil.rmtree(work, ignore_errors=True)


# ---------------------------------------------------------------------------------------------
# links for the report


def links(publish_root: str, night, run_id: str | None = None) -> dict[str, str]:
    """``NightStatus.artifacts``: label -> href relative to ``<publish_root>/<night>/``.

    The artifacts of ``run_id``, else of the night's newest run that has any.
    """
    night = _night(night)
    base = f"{publish_root.rstrip('/')}/{night.isoformat()}/artifacts"
    fs, path = fsspec.core.url_to_fs(base)
    if run_id:
        runs = [run_slug(run_id)]
    else:
        if not fs.isdir(path):
            return {}
        entries = [e for e in fs.ls(path, detail=True) if e["type"] == "directory"]
        entries.sort(key=lambda e: e.get("mtime") or e.get("LastModified") or e["name"], reverse=True)
        runs = [e["name"].rstrip("/").rsplit("/", 1)[-1] for e in entries]
    for run in runs:
        out: dict[str, str] = {}
        run_path = f"{path}/{run}"
        docs = f"{run_path}/data_docs/index.html"
        if fs.exists(docs):
            out[LABELS["data_docs"]] = f"artifacts/{run}/data_docs/index.html"
        dbt_dir = f"{run_path}/dbt"
        if fs.isdir(dbt_dir):
            for task_dir in sorted(fs.ls(dbt_dir, detail=False)):
                task = task_dir.rstrip("/").rsplit("/", 1)[-1]
                for name in DBT_FILES:
                    if fs.exists(f"{dbt_dir}/{task}/{name}"):
                        label = LABELS[name] + ("" if task == "build" else f" ({task})")
                        out[label] = f"artifacts/{run}/dbt/{task}/{name}"
        if out:
            return out
    return {}
