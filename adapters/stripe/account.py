"""The Stripe account's set-up, through the ledger's one gateway (same client, pinned
version, pacing and error classification as every other call).

Webhook endpoints, Billing Portal configurations, the per-group price and the event
log (``GET /v1/events``). Everything comes back as plain dicts; what the ledger wants
of them is decided in ``app/services/stripe_account``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import orjson

from adapters.stripe.gateway import StripeGateway

PAGE_SIZE = 100  # Stripe's maximum


class StripeAccount:
    """Account-level reads and writes; thin, so the use cases stay testable."""

    def __init__(self, gateway: StripeGateway) -> None:
        self.gateway = gateway
        self.v1 = gateway.client.v1
        # Every price read, for the caller to record (app/services/prices.py): the
        # billing page's estimate reads recorded prices, never Stripe.
        self.prices_read: list[dict[str, Any]] = []

    def _pages(
        self, operation: Any, params: Mapping[str, Any], *, raw: bool = False
    ) -> Iterator[list[dict[str, Any]]]:
        """Every page of a list call (each one paced call), as plain dicts: with ``raw``,
        the JSON as Stripe sent it (the SDK's dicts turn decimal strings into Decimals)."""
        query = {**params, "limit": PAGE_SIZE}
        while True:
            page = self.gateway.call(operation, params=query)
            found = _raw_data(page) if raw else [item.to_dict() for item in page.data]
            if found:
                yield found
            if not page.has_more or not found:
                return
            query = {**query, "starting_after": found[-1]["id"]}

    def _all(self, operation: Any, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        return [item for page in self._pages(operation, params or {}) for item in page]

    # -- webhook endpoints -----------------------------------------------------------

    def webhook_endpoints(self) -> list[dict[str, Any]]:
        return self._all(self.v1.webhook_endpoints.list)

    def create_webhook_endpoint(
        self,
        *,
        url: str,
        enabled_events: Sequence[str],
        api_version: str,
        metadata: Mapping[str, str],
    ) -> dict[str, Any]:
        """A new endpoint; its ``secret`` is in this response only."""
        created = self.gateway.call(
            self.v1.webhook_endpoints.create,
            params={
                "url": url,
                "enabled_events": list(enabled_events),
                "api_version": api_version,
                "metadata": dict(metadata),
            },
        )
        result: dict[str, Any] = created.to_dict()
        return result

    def update_webhook_endpoint(
        self, endpoint_id: str, *, enabled_events: Sequence[str], metadata: Mapping[str, str]
    ) -> dict[str, Any]:
        """Events, metadata and ``disabled=false`` (Stripe cannot change ``api_version``)."""
        updated = self.gateway.call(
            self.v1.webhook_endpoints.update,
            endpoint_id,
            params={
                "enabled_events": list(enabled_events),
                "metadata": dict(metadata),
                "disabled": False,
            },
        )
        result: dict[str, Any] = updated.to_dict()
        return result

    def delete_webhook_endpoint(self, endpoint_id: str) -> None:
        self.gateway.call(self.v1.webhook_endpoints.delete, endpoint_id)

    # -- billing portal configurations -----------------------------------------------

    def portal_configurations(self) -> list[dict[str, Any]]:
        """The active configurations (Stripe refuses portal sessions on inactive ones)."""
        return self._all(self.v1.billing_portal.configurations.list, {"active": True})

    def portal_configuration(self, configuration_id: str) -> dict[str, Any]:
        found = self.gateway.call(self.v1.billing_portal.configurations.retrieve, configuration_id)
        result: dict[str, Any] = found.to_dict()
        return result

    def create_portal_configuration(self, params: Mapping[str, Any]) -> dict[str, Any]:
        created = self.gateway.call(
            self.v1.billing_portal.configurations.create, params=dict(params)
        )
        result: dict[str, Any] = created.to_dict()
        return result

    def update_portal_configuration(
        self, configuration_id: str, params: Mapping[str, Any]
    ) -> dict[str, Any]:
        updated = self.gateway.call(
            self.v1.billing_portal.configurations.update, configuration_id, params=dict(params)
        )
        result: dict[str, Any] = updated.to_dict()
        return result

    # -- the per-group price and the event log ---------------------------------------

    def price(self, price_id: str) -> dict[str, Any]:
        """The price as it is now (not the gateway's billing-page cache)."""
        found = self.gateway.call(self.v1.prices.retrieve, price_id)
        result: dict[str, Any] = found.to_dict()
        self.prices_read.append(result)
        return result

    def event_pages(self, *, since: int, types: Sequence[str]) -> Iterator[list[dict[str, Any]]]:
        """Events created at or after ``since`` of these ``types``, newest first, a page
        (up to 100) at a time. Each is rendered in its own ``api_version`` (the one in
        force when it was created), whatever version this client pins."""
        return self._pages(
            self.v1.events.list, {"created": {"gte": since}, "types": list(types)}, raw=True
        )


def _raw_data(page: Any) -> list[dict[str, Any]]:
    response = page.last_response
    if response is None:  # only for objects the SDK did not receive over HTTP
        msg = "a list page without its HTTP response"
        raise RuntimeError(msg)
    data: list[dict[str, Any]] = orjson.loads(response.body)["data"]
    return data
