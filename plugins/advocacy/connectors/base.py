"""What every connector shares: the connection it is built from, stream declarations,
errors that name the connection, and the HTTP adapter that points a client
library with a hard-coded host at another base URL.

Connectors never import the sandbox: the only thing that tells the sandbox
from the real API is the connection's ``host``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Protocol
from urllib.parse import urlsplit, urlunsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

log = logging.getLogger(__name__)


class ConnectionLike(Protocol):
    """The part of an Airflow ``Connection`` a connector reads."""

    conn_id: str
    host: str | None
    login: str | None
    password: str | None

    @property
    def extra_dejson(self) -> dict: ...


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

    @property
    def extra_dejson(self) -> dict[str, Any]:
        """Same name as on Airflow's ``Connection``, so connectors accept either."""
        return dict(self.extra)


class Stream(NamedTuple):
    """A stream's declaration: the field that keys a record and the one that dates it."""

    key: str
    time: str | None


class ConnectorError(RuntimeError):
    """A connector could not do its job; the message names the connection, never a secret."""


class AuthError(ConnectorError):
    """The platform refused the connection's credentials."""


class RateLimitError(ConnectorError):
    """Rate limited and not allowed (or no longer willing) to wait."""


def conn_id_of(conn: Any) -> str:
    return str(getattr(conn, "conn_id", None) or "<unnamed connection>")


def extra_of(conn: Any) -> dict[str, Any]:
    extra = getattr(conn, "extra_dejson", None)
    if extra is None:
        extra = getattr(conn, "extra", None) or {}
    return dict(extra) if isinstance(extra, dict) else {}


def as_bool(value: Any, default: bool) -> bool:
    if value is None:
        return default
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def base_url(host: str | None, default: str) -> str:
    """``host`` as a scheme+host(+port/path) base URL without a trailing slash."""
    host = (host or "").strip()
    if not host:
        return default
    if "://" not in host:
        host = "https://" + host
    return host.rstrip("/")


def safe_url(url: str) -> str:
    """A URL fit for logs: no user-info, no query string."""
    parts = urlsplit(url)
    netloc = parts.hostname or ""
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def chunks(items: Sequence, size: int) -> Iterator[Sequence]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


class RewritingAdapter(HTTPAdapter):
    """Sends requests meant for ``source`` (a library's hard-coded host) to ``target``.

    Mount it on the library's ``requests.Session`` for ``source``. It also sets a
    default timeout, retries connection errors and 5xx on GET with backoff, and
    calls ``on_send(request)`` / ``on_response(response)`` hooks (counting,
    rate-limit handling). When the target is the source itself, only the extras apply.
    """

    def __init__(
        self,
        source: str,
        target: str,
        *,
        timeout: float | None = 30.0,
        retries: int = 3,
        on_send: Callable[[requests.PreparedRequest], None] | None = None,
        on_response: Callable[[requests.Response], None] | None = None,
    ):
        retry = Retry(
            total=retries,
            connect=retries,
            read=retries,
            status=retries,
            backoff_factor=0.5,
            status_forcelist=(500, 502, 503, 504),
            allowed_methods=frozenset({"GET"}),
            raise_on_status=False,
            respect_retry_after_header=True,
        )
        super().__init__(max_retries=retry)
        self.source = source.rstrip("/")
        self.target = target.rstrip("/")
        self.timeout = timeout
        self.on_send = on_send
        self.on_response = on_response

    def send(self, request: requests.PreparedRequest, **kwargs) -> requests.Response:
        if self.target != self.source and request.url.startswith(self.source):
            request.url = self.target + request.url[len(self.source) :]
            # proxies were chosen for the original host; choose again for the real one
            kwargs["proxies"] = requests.utils.get_environ_proxies(request.url)
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.timeout
        if self.on_send is not None:
            self.on_send(request)
        response = super().send(request, **kwargs)
        if self.on_response is not None:
            self.on_response(response)
        return response


class RedactBearer(logging.Filter):
    """Drops ``Bearer <token>`` from records of loggers that dump request headers."""

    def filter(self, record: logging.LogRecord) -> bool:
        msg = record.getMessage()
        if "Bearer " in msg:
            record.msg = re.sub(r"Bearer [^'\"\s,}]+", "Bearer ***", msg)
            record.args = ()
        return True


def install_redaction(logger_name: str) -> None:
    logger = logging.getLogger(logger_name)
    if not any(isinstance(f, RedactBearer) for f in logger.filters):
        logger.addFilter(RedactBearer())
