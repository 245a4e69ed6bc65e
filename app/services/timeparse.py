"""Instants in and out: the CLI's and the API's names for the one time codec
(projections/times.py), kept so their callers need not change."""

from __future__ import annotations

from projections.times import InstantError, format_instant, parse_instant

__all__ = ["InstantError", "format_instant", "parse_instant"]
