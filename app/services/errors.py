"""Errors any use case may raise, whatever entrypoint called it."""

from __future__ import annotations


class NotReadyError(RuntimeError):
    """The store is unreachable or not migrated; the message says which."""
