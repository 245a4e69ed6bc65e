"""Leadership between ``ledger worker`` processes on one PostgreSQL database.

Exactly one worker runs the loops (projections, inbox, renewals); the others wait.
The leader holds a session-level advisory lock on a connection of its own: if the
leader dies, PostgreSQL ends its session and releases the lock, and a standby that
polls every ``poll_s`` seconds takes over. SQLite is a single-machine store: the
embedded default has one worker and no election.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

import psycopg

from adapters.persistence.database import DatabaseUrl

log = logging.getLogger("ledger.leadership")
# Advisory locks are per database, not per schema: the key names the schema too, so two
# ledgers in one database (one schema each) elect their leaders independently.
LEADER_LOCK_CLASS = 736_100_421


def one_line(text: str) -> str:
    """libpq's messages span lines (``refused`` + ``Is the server running…``); logs want one."""
    return " ".join(text.split())


class Leadership:
    """``acquire`` blocks until this process leads (or ``stop`` is set); ``lost`` is set
    if the leader's session goes away (the term is over: stop leading, ``release``, and
    ``acquire`` again to stand once more)."""

    def __init__(self, url: DatabaseUrl, *, poll_s: float = 2.0) -> None:
        self.url = url
        self.poll_s = poll_s
        self.lost = threading.Event()
        self._conn: psycopg.Connection[Any] | None = None
        self._watch: threading.Thread | None = None
        self._term = threading.Event()  # set by ``release``: the watch of this term ends

    def acquire(self, stop: threading.Event, on_poll: Callable[[], None] | None = None) -> bool:
        """``on_poll`` is called at every attempt: a standby's sign of life."""
        self.lost.clear()
        if self.url.backend != "postgres":
            return not stop.is_set()
        announced = False
        failure: str | None = None
        while not stop.is_set():
            if on_poll is not None:
                on_poll()
            try:
                locked = self._try_lock()
            except psycopg.Error as error:
                # Unreachable is not "someone else leads": say what is wrong, once per cause.
                self._close()
                reason = one_line(str(error))
                if reason != failure:
                    log.warning(
                        "leader election: cannot reach %s: %s (retrying every %gs)",
                        self.url.redacted, reason, self.poll_s,
                    )  # fmt: skip
                    failure = reason
                stop.wait(self.poll_s)
                continue
            failure = None
            if locked:
                log.info("this worker is the leader")
                self._term = threading.Event()
                self._watch = threading.Thread(
                    target=self._watch_session, args=(self._term,), name="leader-watch", daemon=True
                )
                self._watch.start()
                return True
            if not announced:
                log.info("another worker leads; standing by")
                announced = True
            stop.wait(self.poll_s)
        return False

    def _try_lock(self) -> bool:
        if self._conn is None or self._conn.closed:
            self._conn = psycopg.connect(
                self.url.libpq_conninfo(), autocommit=True, connect_timeout=5
            )
        row = self._conn.execute(
            "SELECT pg_try_advisory_lock(%s, hashtext(%s))", (LEADER_LOCK_CLASS, self.url.schema)
        ).fetchone()
        return bool(row and row[0])

    def _watch_session(self, term: threading.Event) -> None:
        """A leader whose session broke must stop leading: its advisory lock went with the
        session, so another worker may already lead."""
        while not term.wait(self.poll_s):
            try:
                if self._conn is None:
                    raise psycopg.OperationalError("no leader connection")
                self._conn.execute("SELECT 1")
            except psycopg.Error as error:
                log.error("lost the leader session (%s): stepping down", one_line(str(error)))
                self.lost.set()
                return

    def release(self) -> None:
        """End this term: the watch stops, and the session (with its lock) closes."""
        self._term.set()
        watch, self._watch = self._watch, None
        if watch is not None and watch is not threading.current_thread():
            watch.join(timeout=self.poll_s + 5)
        self._close()

    def _close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            finally:
                self._conn = None
