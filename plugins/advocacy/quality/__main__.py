"""``python -m advocacy.quality sync``: regenerate the committed GX project from the catalog."""

from __future__ import annotations

import argparse
import logging


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m advocacy.quality")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("sync", help="write the catalog's suites and checkpoint into expectations/gx/")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if args.command == "sync":
        from advocacy.quality.project import project_root, sync_project

        names = sync_project()
        print(f"{len(names)} suites written to {project_root() / 'gx'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
