"""``[core] hostname_callable`` for the Celery test's workers.

Both test workers run on one machine, so the default (the FQDN) would record the
same hostname on every task instance; each worker is told its name instead, the
way separate machines or pods would differ.
"""

import os
import socket


def hostname() -> str:
    return os.environ.get("ADVOCACY_WORKER_NAME") or socket.getfqdn()
