"""What every connector shares."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ConnectionInfo:
    """The parts of an Airflow Connection a connector uses.

    ``host`` includes the scheme (``https://api.twitter.com`` or the sandbox's
    ``http://127.0.0.1:PORT``); ``password`` holds the token; ``extra`` the
    connection's JSON extra (timeouts, API version, ...).
    """

    conn_id: str
    host: str
    login: str = ""
    password: str = field(default="", repr=False)
    extra: dict = field(default_factory=dict)
