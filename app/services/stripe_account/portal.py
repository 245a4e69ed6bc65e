"""Which Billing Portal configuration the ledger's portal sessions use."""

from __future__ import annotations

import logging

from app.services.stripe_account.desired import find_portal
from app.services.stripe_account.port import AccountPort

log = logging.getLogger("ledger.portal")


def portal_configuration(account: AccountPort, configured: str | None) -> str | None:
    """``STRIPE_PORTAL_CONFIGURATION`` when set (no call); else the active configuration
    ``ledger stripe setup`` marked (one list call: portal sessions are rare); else None,
    and Stripe's default applies — which may let customers change their quantity."""
    if configured:
        return configured
    found = find_portal(account.portal_configurations(), None)
    if found is None:
        log.warning("no portal configuration from `ledger stripe setup`: using Stripe's default")
        return None
    return str(found["id"])


def billing_url(public_url: str) -> str:
    """Where the portal sends the customer back: the SPA's billing page."""
    return f"{public_url.rstrip('/')}/billing"
