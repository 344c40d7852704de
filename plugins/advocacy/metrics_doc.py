"""``docs/metrics.md``: the KPI definitions for BI analysts, rendered from the dbt project.

The text lives once, in the dbt docs blocks of ``dbt_project/models/marts/_marts__docs.md``
(``__overview__`` and one ``mart_<model>`` block per mart, which each mart's yml uses as its
description) and the column descriptions of the marts' yml files. This module renders the
same text as one Markdown page; a test fails when ``docs/metrics.md`` differs from it.

    uv run python -m advocacy.metrics_doc --write    # after editing a docs block or a column
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
MARTS = REPO / "dbt_project" / "models" / "marts"
DOCS_BLOCKS = MARTS / "_marts__docs.md"
METRICS_MD = REPO / "docs" / "metrics.md"
_BLOCK = re.compile(r"{%\s*docs\s+(\w+)\s*%}\n?(.*?){%\s*enddocs\s*%}", re.S)


def doc_blocks() -> dict[str, str]:
    return {name: text.strip() for name, text in _BLOCK.findall(DOCS_BLOCKS.read_text(encoding="utf-8"))}


def mart_models() -> list[dict]:
    """The marts' yml entries, in file order (core, kpi, ops)."""
    models = []
    for f in sorted(MARTS.glob("*/_*__models.yml")):
        models += yaml.safe_load(f.read_text(encoding="utf-8"))["models"]
    return models


def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def render() -> str:
    blocks = doc_blocks()
    out = [
        "# Metrics: what every published number means",
        "",
        "<!-- Rendered by `uv run python -m advocacy.metrics_doc --write` from the dbt docs blocks",
        "     (dbt_project/models/marts/_marts__docs.md) and the marts' column descriptions. -->",
        "",
        blocks["__overview__"],
        "",
    ]
    for model in mart_models():
        name = model["name"]
        out += [
            f"## `{name}`",
            "",
            blocks[f"mart_{name}"],
            "",
            "| column | type | meaning |",
            "| --- | --- | --- |",
        ]
        for col in model.get("columns", []):
            out.append(
                f"| `{col['name']}` | {col.get('data_type', '')} | {_cell(col.get('description', ''))} |"
            )
        out.append("")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    text = render()
    if "--write" in argv:
        METRICS_MD.parent.mkdir(parents=True, exist_ok=True)
        METRICS_MD.write_text(text, encoding="utf-8")
        print(f"wrote {METRICS_MD}")
    else:
        print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
