"""Calendar arithmetic for billing periods (UTC, anchored like Stripe's billing cycle)."""

from __future__ import annotations

import calendar
from datetime import UTC, datetime, timedelta
from typing import Any

INTERVALS = ("day", "week", "month", "year")


def add_interval(anchor: int, interval: str, count: int) -> int:
    """`anchor` plus `count` intervals; months clamp to the month's last day (Jan 31 → Feb 28)."""
    start = datetime.fromtimestamp(anchor, tz=UTC)
    if interval == "day":
        return int((start + timedelta(days=count)).timestamp())
    if interval == "week":
        return int((start + timedelta(weeks=count)).timestamp())
    months = count * 12 if interval == "year" else count
    if interval not in {"month", "year"}:
        raise ValueError(f"unknown interval {interval!r}")
    year, month0 = divmod(start.month - 1 + months, 12)
    year += start.year
    day = min(start.day, calendar.monthrange(year, month0 + 1)[1])
    return int(start.replace(year=year, month=month0 + 1, day=day).timestamp())


def recurring_of(sub: dict[str, Any]) -> tuple[str, int]:
    """The (interval, interval_count) shared by all items of a subscription."""
    recurring = sub["items"]["data"][0]["price"]["recurring"]
    return str(recurring["interval"]), int(recurring.get("interval_count") or 1)


def period_bounds(sub: dict[str, Any], index: int) -> tuple[int, int]:
    """Start and end of the `index`-th period (0 = first) counted from the cycle anchor.

    Counting from the anchor, not from the previous end, keeps month-end anchors from
    drifting (Jan 31 → Feb 28 → Mar 31), as Stripe's billing_cycle_anchor does.
    """
    interval, count = recurring_of(sub)
    anchor = int(sub["billing_cycle_anchor"])
    return (
        add_interval(anchor, interval, count * index),
        add_interval(anchor, interval, count * (index + 1)),
    )


def current_period(sub: dict[str, Any]) -> tuple[int, int]:
    """The current period as shown on the subscription's first item."""
    item = sub["items"]["data"][0]
    return int(item["current_period_start"]), int(item["current_period_end"])
