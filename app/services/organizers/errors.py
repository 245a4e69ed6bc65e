"""Why an organizer's billing request cannot be answered; routes map each to a problem."""

from __future__ import annotations


class AlreadyEnrolledError(Exception):
    pass


class NotEnrolledError(Exception):
    pass


class StripeNotConfiguredError(Exception):
    pass
