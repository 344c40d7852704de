"""A minimal SMTP server (RFC 5321 subset, stdlib asyncio) for tests: it accepts every message
on loopback and keeps it, parsed, so a test reads what a real mail client would have received.

aiosmtpd is not a dependency of the project; this is the handful of verbs smtplib and
aiosmtplib speak when neither TLS nor AUTH is on.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import threading
import time
from email.message import EmailMessage


class SmtpServer:
    def __init__(self, host: str = "127.0.0.1"):
        self.host = host
        self.port = 0
        self.messages: list[tuple[str, list[str], EmailMessage]] = []
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> SmtpServer:
        self._thread.start()
        self._ready.wait(10)
        return self

    def __exit__(self, *exc) -> None:
        async def shutdown():
            for t in asyncio.all_tasks(self._loop):
                if t is not asyncio.current_task():
                    t.cancel()
            self._loop.stop()

        asyncio.run_coroutine_threadsafe(shutdown(), self._loop)
        self._thread.join(5)

    def wait_for(self, count: int = 1, timeout: float = 30.0) -> list[EmailMessage]:
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.1)
        return [m for _, _, m in self.messages]

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(asyncio.start_server(self._session, self.host, 0))
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()
        server.close()

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        def reply(line: str) -> None:
            writer.write((line + "\r\n").encode())

        reply("220 test-smtp ready")
        sender, rcpts = "", []
        try:
            while line := await reader.readline():
                cmd = line.decode(errors="replace").strip()
                verb = cmd[:4].upper()
                if verb == "EHLO":
                    writer.write(b"250-test-smtp\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n")
                elif verb == "HELO":
                    reply("250 test-smtp")
                elif verb == "MAIL":
                    sender, rcpts = cmd.split(":", 1)[1].split()[0].strip("<>"), []
                    reply("250 OK")
                elif verb == "RCPT":
                    rcpts.append(cmd.split(":", 1)[1].split()[0].strip("<>"))
                    reply("250 OK")
                elif verb == "DATA":
                    reply("354 end with <CRLF>.<CRLF>")
                    await writer.drain()
                    lines = []
                    while (chunk := await reader.readline()) not in (b".\r\n", b".\n", b""):
                        lines.append(chunk[1:] if chunk.startswith(b"..") else chunk)
                    msg = email.message_from_bytes(b"".join(lines), policy=email.policy.default)
                    self.messages.append((sender, rcpts, msg))
                    reply("250 OK queued")
                elif verb in ("RSET", "NOOP"):
                    reply("250 OK")
                elif verb == "QUIT":
                    reply("221 bye")
                    await writer.drain()
                    break
                else:
                    reply("502 not implemented")
                await writer.drain()
        except asyncio.CancelledError:
            pass
        finally:
            writer.close()


def body_text(msg: EmailMessage) -> str:
    """Every text part of the message, decoded."""
    parts = [p for p in msg.walk() if p.get_content_maintype() == "text"]
    return "\n".join(p.get_content() for p in parts)


def smtp_connection(server: SmtpServer) -> str:
    """The server as an ``AIRFLOW_CONN_*`` value (plain SMTP: no TLS, no SSL, no login)."""
    import json

    return json.dumps(
        {
            "conn_type": "smtp",
            "host": server.host,
            "port": server.port,
            "extra": {"disable_ssl": True, "disable_tls": True, "from_email": "nightly@example.org",
                      "timeout": 10, "retry_limit": 1},
        }
    )  # fmt: skip
