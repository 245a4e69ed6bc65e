"""``ledger stripe check``: what in the account would break the ledger."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from adapters.stripe.gateway import StripeCallError
from app.services.stripe_account.desired import (
    Finding,
    endpoint_findings,
    find_portal,
    portal_findings,
    portal_missing,
    price_findings,
    price_not_found,
    price_unset,
)
from app.services.stripe_account.port import AccountPort


@dataclass(frozen=True)
class AccountSettings:
    """The settings that say what the ledger expects of the account."""

    price_id: str | None
    portal_configuration: str | None
    automatic_tax: bool


def check_account(
    account: AccountPort, settings: AccountSettings, *, url: str | None
) -> list[Finding]:
    """Every finding, endpoint first, then portal, then price (empty: all is well)."""
    findings = endpoint_findings(account.webhook_endpoints(), url)
    config = find_portal(account.portal_configurations(), settings.portal_configuration)
    if config is None:
        findings.append(portal_missing(settings.portal_configuration))
    else:
        findings.extend(portal_findings(config, automatic_tax=settings.automatic_tax))
    findings.extend(check_price(account, settings.price_id))
    return findings


def check_price(account: AccountPort, price_id: str | None) -> list[Finding]:
    """The per-group price's findings (a price Stripe does not know is one)."""
    if price_id is None:
        return [price_unset()]
    try:
        price: Mapping[str, Any] = account.price(price_id)
    except StripeCallError as error:
        if error.status == 404:
            return [price_not_found(price_id, error.message)]
        raise
    return price_findings(price)
