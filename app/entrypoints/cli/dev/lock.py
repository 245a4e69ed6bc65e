"""One dev stack per ``var/``: ``var/dev.lock``, held with ``flock`` by the running
``ledger dev up``.

The kernel releases a ``flock`` when its holder dies, however it dies, so a lock left by
a killed process never blocks the next start; the file's text (pid and URL) only names
the holder in the refusal. The descriptor is not inherited by the stack's children.
"""

from __future__ import annotations

import fcntl
import os
import time
from dataclasses import dataclass
from pathlib import Path

import orjson

from app.dev_env import DEV_DIR
from app.entrypoints.cli.dev.errors import DevStackError

LOCK = DEV_DIR / "dev.lock"


class StackRunningError(DevStackError):
    """Another process holds the lock; the message names it."""


@dataclass(frozen=True)
class Holder:
    """Who holds the lock, as it wrote itself down."""

    pid: int | None
    url: str | None

    def describe(self) -> str:
        pid = "?" if self.pid is None else str(self.pid)
        return f"pid {pid}, {self.url or 'URL unknown'}"


class StackLock:
    """``with StackLock(url=...)``: the lock for this process, or ``StackRunningError``."""

    def __init__(self, path: Path = LOCK, *, url: str | None = None) -> None:
        self.path = path
        self.url = url
        self._fd: int | None = None

    def __enter__(self) -> StackLock:
        fd = _try_lock(self.path)
        if fd is None:
            holder = _read_holder(self.path)
            msg = f"a dev stack already runs on {self.path.parent}/ ({holder.describe()})"
            raise StackRunningError(msg)
        # Only the holder writes: a refused start never erases the running stack's name.
        os.ftruncate(fd, 0)
        os.write(fd, orjson.dumps({"pid": os.getpid(), "url": self.url}))
        self._fd = fd
        return self

    def __exit__(self, *_: object) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing releases the flock
            self._fd = None


def running_stack(path: Path = LOCK) -> Holder | None:
    """The stack holding ``path`` now, or None when no process holds it."""
    if not path.exists():
        return None
    fd = _try_lock(path)
    if fd is None:
        return _read_holder(path)
    os.close(fd)
    return None


def _try_lock(path: Path) -> int | None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


def _read_holder(path: Path) -> Holder:
    # The holder writes its name just after taking the lock: give it a moment.
    deadline = time.monotonic() + 1
    while True:
        try:
            data = orjson.loads(path.read_bytes())
        except (OSError, orjson.JSONDecodeError):
            data = None
        if isinstance(data, dict) or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    if not isinstance(data, dict):
        return Holder(pid=None, url=None)
    pid, url = data.get("pid"), data.get("url")
    return Holder(
        pid=pid if isinstance(pid, int) else None, url=url if isinstance(url, str) else None
    )
