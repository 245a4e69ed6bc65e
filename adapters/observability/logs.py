"""Logs: one JSON object a line (``LEDGER_LOG_FORMAT=json``, the image's default) or text.

JSON lines carry ``time`` (UTC ISO-8601), ``level``, ``logger``, ``message`` and the
context fields that apply (``request_id``, ``organizer_id``, ``event_id``, ``sync_id``):
code sets them with :func:`log_context` around a unit of work, and every line logged
inside it, by any module, carries them. The formatting is python-json-logger's.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Literal

from pythonjsonlogger.json import JsonFormatter

LogFormat = Literal["json", "text"]
CONTEXT_FIELDS = ("request_id", "organizer_id", "event_id", "sync_id")
_CONTEXT: ContextVar[dict[str, str]] = ContextVar("ledger_log_context", default={})  # noqa: B039
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


@contextmanager
def log_context(**fields: str | None) -> Iterator[None]:
    """Add context fields to every line logged inside (nested contexts add up)."""
    merged = {**_CONTEXT.get(), **{k: v for k, v in fields.items() if v is not None}}
    token = _CONTEXT.set(merged)
    try:
        yield
    finally:
        _CONTEXT.reset(token)


def context_field(name: str) -> str | None:
    """A field of the current context (e.g. the request id a problem body names)."""
    return _CONTEXT.get().get(name)


class ContextFilter(logging.Filter):
    """Copies the current context fields onto each record (absent ones stay absent)."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name, value in _CONTEXT.get().items():
            setattr(record, name, value)
        return True


class LedgerJsonFormatter(JsonFormatter):
    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        moment = datetime.fromtimestamp(record.created, tz=UTC)
        return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def json_formatter() -> logging.Formatter:
    return LedgerJsonFormatter(
        "%(asctime)s %(levelname)s %(name)s %(message)s",
        rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        json_ensure_ascii=False,
    )


def configure_logging(level: str, log_format: LogFormat = "text") -> None:
    """Root logging for a ``ledger`` process: one handler on stderr, the chosen format,
    the context filter. Library loggers (uvicorn's included) propagate into it."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        json_formatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT)
    )
    handler.addFilter(ContextFilter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
