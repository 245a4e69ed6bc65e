"""The dev stack's one error type: ``ledger`` prints its message as one line (exit 1)."""

from __future__ import annotations


class DevStackError(RuntimeError):
    """The dev stack cannot do what was asked; the message says why and what to do."""
