"""What the ledger needs of a Stripe account, and how a given account falls short.

Pure functions over the plain dicts Stripe returns: ``ledger stripe setup`` fixes what
it can of what they find, ``ledger stripe check`` reports all of it. One definition
serves both, so setup never leaves something check would flag (but the price, which
setup cannot change: a price's type and scheme are fixed once it exists).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from adapters.stripe.gateway import PINNED_API_VERSION
from adapters.stripe.translate import HANDLED_EVENT_TYPES

# Marks what setup made, so check and portal sessions find it again without ids.
MARK_KEY = "renewal_ledger"
ENDPOINT_MARK = {MARK_KEY: "webhook_endpoint"}
PORTAL_MARK = {MARK_KEY: "portal_configuration"}
ENABLED_EVENTS: tuple[str, ...] = tuple(sorted(HANDLED_EVENT_TYPES))


@dataclass(frozen=True)
class Finding:
    """One thing in the account that would break the ledger."""

    code: str
    subject: str
    message: str

    def line(self) -> str:
        return f"{self.code}: {self.message}"

    def as_json(self) -> dict[str, str]:
        return asdict(self)


def marked(obj: Mapping[str, Any], mark: Mapping[str, str]) -> bool:
    metadata = obj.get("metadata") or {}
    return all(metadata.get(key) == value for key, value in mark.items())


# -- webhook endpoint ------------------------------------------------------------------


def version_findings(endpoint: Mapping[str, Any]) -> list[Finding]:
    """An endpoint not pinned to the SDK's version gets payloads the translator may not
    read (a newer default makes every event refused). Stripe cannot change an
    endpoint's version: it has to be replaced."""
    endpoint_id, version = str(endpoint["id"]), endpoint.get("api_version")
    if version is None:
        return [
            Finding(
                "endpoint_unpinned",
                endpoint_id,
                f"webhook endpoint {endpoint_id} has no api_version: events come in the "
                f"account's default version, not {PINNED_API_VERSION}",
            )
        ]
    if version != PINNED_API_VERSION:
        return [
            Finding(
                "endpoint_api_version",
                endpoint_id,
                f"webhook endpoint {endpoint_id} is on API version {version}, "
                f"the ledger reads {PINNED_API_VERSION}",
            )
        ]
    return []


def delivery_findings(endpoint: Mapping[str, Any]) -> list[Finding]:
    """What setup can fix in place: a disabled endpoint, a handled event not enabled."""
    endpoint_id = str(endpoint["id"])
    found: list[Finding] = []
    if endpoint.get("status") != "enabled":
        found.append(
            Finding(
                "endpoint_disabled",
                endpoint_id,
                f"webhook endpoint {endpoint_id} is {endpoint.get('status')}: Stripe sends it "
                "nothing",
            )
        )
    enabled = set(endpoint.get("enabled_events") or [])
    if "*" not in enabled:
        found.extend(
            Finding(
                "event_not_enabled",
                event_type,
                f"webhook endpoint {endpoint_id} does not receive {event_type}",
            )
            for event_type in ENABLED_EVENTS
            if event_type not in enabled
        )
    return found


def endpoint_is_exact(endpoint: Mapping[str, Any]) -> bool:
    """Exactly what setup makes: enabled, the handled events (not ``*``), marked."""
    return (
        endpoint.get("status") == "enabled"
        and sorted(endpoint.get("enabled_events") or []) == list(ENABLED_EVENTS)
        and marked(endpoint, ENDPOINT_MARK)
    )


def endpoint_findings(endpoints: Sequence[Mapping[str, Any]], url: str | None) -> list[Finding]:
    """Findings for the ledger's endpoint(s): those at ``url`` when given, else those
    setup marked."""
    ours = ledger_endpoints(endpoints, url)
    if not ours:
        where = f"for {url}" if url else f"marked {MARK_KEY} (run `ledger stripe setup`)"
        return [Finding("endpoint_missing", url or "", f"no webhook endpoint {where}")]
    return [f for e in ours for f in (*version_findings(e), *delivery_findings(e))]


def ledger_endpoints(
    endpoints: Sequence[Mapping[str, Any]], url: str | None
) -> list[Mapping[str, Any]]:
    if url is not None:
        return [e for e in endpoints if e.get("url") == url]
    return [e for e in endpoints if marked(e, ENDPOINT_MARK)]


# -- billing portal configuration -------------------------------------------------------

CUSTOMER_UPDATES = ("address", "email", "name", "tax_id")


def portal_params(return_url: str) -> dict[str, Any]:
    """The configuration every portal session uses: customers fix their card, address
    and tax ids, see invoices and cancel at period end; they never change the quantity
    or the price (the ledger owns both)."""
    return {
        "name": "Renewal Ledger",
        "default_return_url": return_url,
        "metadata": dict(PORTAL_MARK),
        "features": {
            "customer_update": {"enabled": True, "allowed_updates": list(CUSTOMER_UPDATES)},
            "invoice_history": {"enabled": True},
            "payment_method_update": {"enabled": True},
            "subscription_cancel": {
                "enabled": True,
                "mode": "at_period_end",
                "proration_behavior": "none",
            },
            "subscription_update": {"enabled": False},
        },
    }


def portal_findings(config: Mapping[str, Any], *, automatic_tax: bool) -> list[Finding]:
    """What in a portal configuration goes against the ledger."""
    config_id = str(config["id"])
    features = config.get("features") or {}
    update = features.get("subscription_update") or {}
    cancel = features.get("subscription_cancel") or {}
    customer = features.get("customer_update") or {}
    found: list[Finding] = []
    if not config.get("active", False):
        found.append(
            Finding("portal_inactive", config_id, f"portal configuration {config_id} is inactive")
        )
    if update.get("enabled"):
        found.append(
            Finding(
                "portal_allows_subscription_update",
                config_id,
                f"portal configuration {config_id} lets customers change quantity or price "
                "(the ledger sets the quantity)",
            )
        )
    if not cancel.get("enabled") or cancel.get("mode") != "at_period_end":
        found.append(
            Finding(
                "portal_cancel_not_at_period_end",
                config_id,
                f"portal configuration {config_id} does not offer cancelling at period end",
            )
        )
    collects_address = customer.get("enabled") and "address" in (
        customer.get("allowed_updates") or []
    )
    if automatic_tax and not collects_address:
        found.append(
            Finding(
                "automatic_tax_without_address",
                config_id,
                "STRIPE_AUTOMATIC_TAX is on but portal configuration "
                f"{config_id} does not let customers give their address (Stripe Tax "
                "refuses customers without one)",
            )
        )
    return found


def portal_missing(configured: str | None) -> Finding:
    if configured:
        message = f"STRIPE_PORTAL_CONFIGURATION names {configured}, which is not active"
    else:
        message = f"no active portal configuration marked {MARK_KEY} (run `ledger stripe setup`)"
    return Finding("portal_configuration_missing", configured or "", message)


def find_portal(
    configs: Sequence[Mapping[str, Any]], configured: str | None
) -> Mapping[str, Any] | None:
    """The ledger's configuration: the one STRIPE_PORTAL_CONFIGURATION names, else the
    newest active one setup marked."""
    for config in configs:
        if (config["id"] == configured) if configured else marked(config, PORTAL_MARK):
            return config
    return None


# -- the per-group price --------------------------------------------------------------


def price_findings(price: Mapping[str, Any]) -> list[Finding]:
    """The per-group price must be active, recurring, licensed and per unit: the ledger
    bills quantity x unit amount each period."""
    price_id = str(price["id"])
    recurring = price.get("recurring") or {}
    found: list[Finding] = []
    if not price.get("active", False):
        found.append(Finding("price_inactive", price_id, f"price {price_id} is archived"))
    if price.get("type") != "recurring" or not recurring:
        found.append(Finding("price_not_recurring", price_id, f"price {price_id} is not recurring"))
    elif recurring.get("usage_type", "licensed") != "licensed":
        found.append(
            Finding(
                "price_metered",
                price_id,
                f"price {price_id} is metered: the ledger sets a quantity, metered prices "
                "have none",
            )
        )
    if price.get("billing_scheme") != "per_unit":
        found.append(
            Finding(
                "price_not_per_unit",
                price_id,
                f"price {price_id} is billed {price.get('billing_scheme')}, not per_unit",
            )
        )
    return found


def price_unset() -> Finding:
    return Finding("price_missing", "", "STRIPE_PRICE_ID is not set")


def price_not_found(price_id: str, error: str) -> Finding:
    return Finding("price_missing", price_id, f"price {price_id} not found ({error})")
