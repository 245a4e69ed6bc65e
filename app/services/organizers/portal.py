"""The organizer's way to Stripe's Billing Portal. No HTTP here."""

from __future__ import annotations

from typing import Protocol

from adapters.stripe.account import StripeAccount
from app.services.ledger import LedgerApplication
from app.services.organizers.enrollment import StripeDeps, configured_gateway
from app.services.organizers.errors import NotEnrolledError
from app.services.organizers.models import PortalLink
from app.services.stripe_account.portal import billing_url, portal_configuration


class PortalDeps(StripeDeps, Protocol):
    """What :func:`portal` uses (the container satisfies it)."""

    @property
    def ledger(self) -> LedgerApplication: ...


def portal(deps: PortalDeps, organizer_id: str) -> PortalLink:
    """A Billing Portal session for an enrolled organizer."""
    gateway = configured_gateway(deps)
    organizer = deps.ledger.find(organizer_id)
    if organizer is None or organizer.stripe_customer_id is None:
        raise NotEnrolledError(organizer_id)
    url = gateway.create_portal_session(
        customer_id=organizer.stripe_customer_id,
        return_url=billing_url(deps.settings.public_url),
        configuration=portal_configuration(
            StripeAccount(gateway), deps.settings.stripe_portal_configuration
        ),
    )
    return PortalLink(url=url)
