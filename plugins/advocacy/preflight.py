"""One finding of a pre-flight check (``advocacy check``): what was checked, how it went, the fix.

Parts that know how to check themselves (a connector probing its connection, the
inputs checking a file's header and a sample, the warehouse its privileges) return
``Finding`` values; ``advocacy check`` prints them as one table and exits non-zero on
a ``fail``. A finding never carries a secret.
"""

from __future__ import annotations

from dataclasses import dataclass

LEVELS = ("ok", "warn", "fail")


@dataclass(frozen=True)
class Finding:
    level: str  # ok | warn | fail
    what: str  # the thing checked, e.g. "linkedin_api: token" or "roster: header"
    detail: str = ""  # what was seen
    fix: str = ""  # what to do (empty for ok)

    def __post_init__(self):
        if self.level not in LEVELS:
            raise ValueError(f"finding level {self.level!r} is not one of {', '.join(LEVELS)}")
