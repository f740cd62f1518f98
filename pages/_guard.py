"""Guessing the presenter password: an exponential wait per client after a few wrong tries, and
one for the whole server when many clients fail at once. Plain Python (no Streamlit), one
instance per server process, so a test can drive it with its own clock."""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable

log = logging.getLogger(__name__)


class Backoff:
    """Failed attempts per client and overall; how long each must wait before the next try.

    Args:
        free: wrong tries a client has before it must wait (the next try after them waits).
        first_wait: seconds of the first wait; each further failure doubles it, up to `cap`.
        quiet: seconds without a failure after which a client starts afresh.
        server_free: failures in `quiet` seconds, all clients together, before everyone waits.
        clock: seconds, monotonic.
    """

    def __init__(
        self,
        free: int = 5,
        first_wait: float = 30.0,
        cap: float = 600.0,
        quiet: float = 600.0,
        server_free: int = 50,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.free, self.first_wait, self.cap, self.quiet = free, first_wait, cap, quiet
        self.server_free, self.clock = server_free, clock
        self._clients: dict[str, tuple[int, float]] = {}  # client -> (failures, last failure)
        self._recent: deque[float] = deque()  # every client's failure times, last `quiet` s
        self._lock = threading.Lock()

    def _delay(self, failures: int, free: int) -> float:
        over = failures - free
        return 0.0 if over < 0 else min(self.cap, self.first_wait * 2**over)

    def wait(self, client: str) -> float:
        """Seconds `client` must still wait before its next try (0: it may try now)."""
        now = self.clock()
        with self._lock:
            while self._recent and now - self._recent[0] > self.quiet:
                self._recent.popleft()
            waits = [0.0]
            if self._recent:
                waits.append(self._delay(len(self._recent), self.server_free) + self._recent[-1])
            failures, last = self._clients.get(client, (0, -float("inf")))
            if now - last <= self.quiet:
                waits.append(self._delay(failures, self.free) + last)
            return max(0.0, max(waits) - now) if len(waits) > 1 else 0.0

    def failed(self, client: str) -> None:
        now = self.clock()
        with self._lock:
            failures, last = self._clients.get(client, (0, -float("inf")))
            failures = failures + 1 if now - last <= self.quiet else 1
            self._clients[client] = (failures, now)
            self._recent.append(now)
        log.warning("wrong presenter password from %s (%d in a row)", client, failures)

    def succeeded(self, client: str) -> None:
        with self._lock:
            self._clients.pop(client, None)


class UploadGate:
    """The browser sessions that may upload files while the dashboard is view-only: those a
    presenter unlocked. Streamlit's upload endpoint asks it before it keeps a file (see
    `pages._server.guard_uploads`); one instance per server process."""

    def __init__(self) -> None:
        self._open: set[str] = set()
        self._lock = threading.Lock()

    def open(self, session_id: str) -> None:
        with self._lock:
            self._open.add(session_id)

    def close(self, session_id: str) -> None:
        with self._lock:
            self._open.discard(session_id)

    def allows(self, session_id: str, viewer_mode: bool) -> bool:
        """Whether a file sent by `session_id` may be kept."""
        if not viewer_mode:
            return True
        with self._lock:
            return session_id in self._open
