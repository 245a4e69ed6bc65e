"""The renewal settings the process manager works with (built from Settings)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from domain.renewal import ProrationPolicy


@dataclass(frozen=True)
class RenewalPolicy:
    minimum_quantity: int = 1
    proration: ProrationPolicy = ProrationPolicy.NONE
    lead: timedelta = timedelta(hours=1)
    retry_base: timedelta = timedelta(seconds=2)
    retry_horizon: timedelta = timedelta(hours=24)
