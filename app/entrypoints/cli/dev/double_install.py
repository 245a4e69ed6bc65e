"""Whether the Stripe test double is installed: ``ledger dev`` imports it only inside the
commands that use it, because a production install (the wheel, the image) carries none
of it (stripe-double/, docs/stripe-double.md). Every other command works without it."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from contextlib import contextmanager

from app.settings import ConfigurationError

PACKAGE = "stripe_double"
NOT_INSTALLED = (
    "`ledger dev` needs the development install, which brings the Stripe test double"
    " (`make run` sets it up)"
)


@contextmanager
def double_installed() -> Iterator[None]:
    """Around an import of the double: without it, a configuration error (one line, exit
    78) instead of a traceback."""
    try:
        yield
    except ModuleNotFoundError as error:
        name = error.name or ""
        if name != PACKAGE and not name.startswith(f"{PACKAGE}."):
            raise
        raise ConfigurationError(NOT_INSTALLED) from None


def require_double() -> None:
    """Fail as ``double_installed`` does unless the double can be imported."""
    with double_installed():
        importlib.import_module(PACKAGE)
