"""The account operations setup and check need (``adapters.stripe.account`` has them)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol


class AccountPort(Protocol):
    def webhook_endpoints(self) -> list[dict[str, Any]]: ...

    def create_webhook_endpoint(
        self,
        *,
        url: str,
        enabled_events: Sequence[str],
        api_version: str,
        metadata: Mapping[str, str],
    ) -> dict[str, Any]: ...

    def update_webhook_endpoint(
        self, endpoint_id: str, *, enabled_events: Sequence[str], metadata: Mapping[str, str]
    ) -> dict[str, Any]: ...

    def delete_webhook_endpoint(self, endpoint_id: str) -> None: ...

    def portal_configurations(self) -> list[dict[str, Any]]: ...

    def create_portal_configuration(self, params: Mapping[str, Any]) -> dict[str, Any]: ...

    def update_portal_configuration(
        self, configuration_id: str, params: Mapping[str, Any]
    ) -> dict[str, Any]: ...

    def price(self, price_id: str) -> dict[str, Any]: ...
