"""The organizer's input guards: platform ids and instants, refused with the field named."""

from __future__ import annotations

from datetime import datetime

from domain.limits import id_problem, instant_problem


class OrganizerError(ValueError):
    """A command that the organizer's current state does not allow."""


def check_platform_id(value: str, what: str) -> None:
    problem = id_problem(value)
    if problem is not None:
        msg = f"{what} {problem}"
        raise OrganizerError(msg)


def check_aware(value: datetime, what: str) -> None:
    problem = instant_problem(value)
    if problem is not None:
        msg = f"{what} {problem}"
        raise OrganizerError(msg)
