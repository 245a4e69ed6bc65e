"""Billing policy: which quantity an organizer is billed for. Pure functions."""

from __future__ import annotations

from datetime import datetime

from domain.groups import GroupHistory, active_group_ids

DEFAULT_MINIMUM_QUANTITY = 1


class PolicyError(ValueError):
    """A policy was asked something that makes no sense (e.g. a negative minimum)."""


def billable_quantity(
    groups: GroupHistory,
    at: datetime | None = None,
    *,
    minimum: int = DEFAULT_MINIMUM_QUANTITY,
) -> int:
    """The quantity to bill at instant ``at``: active groups then, never below ``minimum``.

    ``at`` is compared with the changes' own ``occurred_at`` times, so a change the
    platform made after ``at`` does not count even if it reached us earlier.
    """
    if minimum < 0:
        msg = f"minimum billed quantity must be >= 0, got {minimum}"
        raise PolicyError(msg)
    return max(len(active_group_ids(groups, at)), minimum)
