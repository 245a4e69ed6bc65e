"""``ledger stripe setup``: make the account what the ledger needs, idempotently.

Run twice, the second run writes nothing: each step reads first and writes only what
differs from ``desired``. The one webhook endpoint for the URL is pinned to the SDK's
API version; as Stripe cannot change an endpoint's version, one on another version is
replaced (a new endpoint, so a new signing secret, printed once).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from adapters.stripe.gateway import PINNED_API_VERSION
from app.services.stripe_account.check import AccountSettings, check_price
from app.services.stripe_account.desired import (
    ENABLED_EVENTS,
    ENDPOINT_MARK,
    Finding,
    endpoint_is_exact,
    find_portal,
    portal_findings,
    portal_params,
    version_findings,
)
from app.services.stripe_account.port import AccountPort


@dataclass
class SetupResult:
    """What setup did (one line per change), and what it could not fix."""

    changes: list[str] = field(default_factory=list)
    endpoint_id: str = ""
    portal_configuration_id: str = ""
    # Only on creation: Stripe shows an endpoint's secret once.
    secret: str | None = None
    findings: list[Finding] = field(default_factory=list)


def set_up(
    account: AccountPort, settings: AccountSettings, *, url: str, return_url: str
) -> SetupResult:
    """Endpoint, portal configuration, then the price check (which setup cannot fix)."""
    result = SetupResult()
    _endpoint(account, url, result)
    _portal(account, settings, return_url, result)
    result.findings = check_price(account, settings.price_id)
    return result


def _endpoint(account: AccountPort, url: str, result: SetupResult) -> None:
    at_url = [e for e in account.webhook_endpoints() if e.get("url") == url]
    pinned = [e for e in at_url if not version_findings(e)]
    if pinned:
        keep = pinned[0]
        if not endpoint_is_exact(keep):
            account.update_webhook_endpoint(
                keep["id"], enabled_events=ENABLED_EVENTS, metadata=ENDPOINT_MARK
            )
            result.changes.append(
                f"updated webhook endpoint {keep['id']}: enabled, {len(ENABLED_EVENTS)} events"
            )
    else:
        keep = account.create_webhook_endpoint(
            url=url,
            enabled_events=ENABLED_EVENTS,
            api_version=PINNED_API_VERSION,
            metadata=ENDPOINT_MARK,
        )
        result.secret = str(keep["secret"])
        result.changes.append(
            f"created webhook endpoint {keep['id']} for {url} "
            f"(api_version {PINNED_API_VERSION}, {len(ENABLED_EVENTS)} events)"
        )
    result.endpoint_id = str(keep["id"])
    # One endpoint per URL: another would deliver every event twice, on its own version.
    for other in at_url:
        if other["id"] != keep["id"]:
            account.delete_webhook_endpoint(other["id"])
            result.changes.append(
                f"deleted webhook endpoint {other['id']} for the same URL "
                f"(api_version {other.get('api_version') or 'account default'})"
            )


def _portal(
    account: AccountPort, settings: AccountSettings, return_url: str, result: SetupResult
) -> None:
    wanted = portal_params(return_url)
    config: Mapping[str, Any] | None = find_portal(
        account.portal_configurations(), settings.portal_configuration
    )
    if config is None:
        config = account.create_portal_configuration(wanted)
        result.changes.append(f"created portal configuration {config['id']}")
    elif portal_findings(config, automatic_tax=True) or config.get("default_return_url") != (
        return_url
    ):
        # Checked as if tax were on: the address is always collected, so turning
        # STRIPE_AUTOMATIC_TAX on later needs no second setup.
        config = account.update_portal_configuration(str(config["id"]), wanted)
        result.changes.append(f"updated portal configuration {config['id']}")
    result.portal_configuration_id = str(config["id"])
