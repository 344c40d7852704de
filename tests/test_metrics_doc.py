"""docs/metrics.md and the marts' dbt docs are one text: the docs blocks render the page."""

from __future__ import annotations

from advocacy import metrics_doc


def test_docs_metrics_md_is_the_rendered_dbt_docs():
    assert metrics_doc.METRICS_MD.read_text(encoding="utf-8") == metrics_doc.render(), (
        "docs/metrics.md is stale: run `uv run python -m advocacy.metrics_doc --write`"
    )


def test_every_mart_and_column_is_documented():
    blocks = metrics_doc.doc_blocks()
    models = metrics_doc.mart_models()
    assert len(models) >= 16
    for model in models:
        name = model["name"]
        assert model["description"] == f'{{{{ doc("mart_{name}") }}}}', name
        assert len(blocks[f"mart_{name}"]) > 200, name  # grain, formulas and edge cases
        assert "**Grain**" in blocks[f"mart_{name}"], name
        for col in model["columns"]:
            assert col.get("description", "").strip(), f"{name}.{col['name']}"
    unused = set(blocks) - {"__overview__"} - {f"mart_{m['name']}" for m in models}
    assert not unused, unused
