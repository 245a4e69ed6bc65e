"""What the ledger asks of a Stripe account (app/services/stripe_account/desired.py), on objects
shaped as the SDK types them, and the backfill's window."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import stripe

from adapters.stripe.gateway import PINNED_API_VERSION
from app.services.stripe_account.backfill import RETENTION, BackfillError, clamp_since
from app.services.stripe_account.desired import (
    ENABLED_EVENTS,
    delivery_findings,
    portal_findings,
    portal_params,
    price_findings,
    version_findings,
)

NOW = datetime(2026, 12, 2, 12, tzinfo=UTC)


def sdk_price(**fields: Any) -> dict[str, Any]:
    """A price as the SDK builds it from Stripe's JSON, then plain again."""
    base: dict[str, Any] = {
        "id": "price_Group",
        "object": "price",
        "active": True,
        "billing_scheme": "per_unit",
        "type": "recurring",
        "unit_amount": 500,
        "currency": "eur",
        "recurring": {"interval": "month", "interval_count": 1, "usage_type": "licensed"},
    }
    price = stripe.Price.construct_from({**base, **fields}, "sk_test")
    plain: dict[str, Any] = price.to_dict()
    return plain


class TestPrice:
    def test_a_licensed_per_unit_recurring_price_is_fine(self) -> None:
        assert price_findings(sdk_price()) == []

    @pytest.mark.parametrize(
        ("fields", "code"),
        [
            ({"active": False}, "price_inactive"),
            ({"type": "one_time", "recurring": None}, "price_not_recurring"),
            ({"billing_scheme": "tiered", "unit_amount": None}, "price_not_per_unit"),
            (
                {"recurring": {"interval": "month", "usage_type": "metered"}},
                "price_metered",
            ),
        ],
    )
    def test_each_way_a_price_cannot_bill_per_group(
        self, fields: dict[str, Any], code: str
    ) -> None:
        assert [f.code for f in price_findings(sdk_price(**fields))] == [code]


class TestEndpoint:
    def endpoint(self, **fields: Any) -> dict[str, Any]:
        base = {
            "id": "we_1",
            "api_version": PINNED_API_VERSION,
            "status": "enabled",
            "enabled_events": list(ENABLED_EVENTS),
        }
        return {**base, **fields}

    def test_every_event_counts_as_enabled_with_a_wildcard(self) -> None:
        assert delivery_findings(self.endpoint(enabled_events=["*"])) == []

    def test_a_disabled_endpoint_and_a_missing_event(self) -> None:
        events = [e for e in ENABLED_EVENTS if e != "invoice.paid"]
        found = delivery_findings(self.endpoint(status="disabled", enabled_events=events))
        assert [(f.code, f.subject) for f in found] == [
            ("endpoint_disabled", "we_1"),
            ("event_not_enabled", "invoice.paid"),
        ]

    def test_versions(self) -> None:
        assert version_findings(self.endpoint()) == []
        assert [f.code for f in version_findings(self.endpoint(api_version=None))] == [
            "endpoint_unpinned"
        ]
        assert [f.code for f in version_findings(self.endpoint(api_version="2020-08-27"))] == [
            "endpoint_api_version"
        ]


class TestPortal:
    def test_what_setup_asks_for_passes_with_and_without_tax(self) -> None:
        config = {"id": "bpc_1", "active": True, **portal_params("https://x/billing")}
        assert portal_findings(config, automatic_tax=True) == []
        assert portal_findings(config, automatic_tax=False) == []

    def test_no_address_only_matters_with_automatic_tax(self) -> None:
        config = {"id": "bpc_1", "active": True, **portal_params("https://x/billing")}
        config["features"]["customer_update"] = {"enabled": True, "allowed_updates": ["email"]}
        assert portal_findings(config, automatic_tax=False) == []
        assert [f.code for f in portal_findings(config, automatic_tax=True)] == [
            "automatic_tax_without_address"
        ]


class TestClampSince:
    def test_since_is_clamped_to_retention_and_never_in_the_future(self) -> None:
        assert clamp_since(NOW - timedelta(days=1), NOW) == (NOW - timedelta(days=1), None)
        moved, original = clamp_since(NOW - timedelta(days=90), NOW)
        assert original == NOW - timedelta(days=90)
        assert NOW - RETENTION < moved < NOW - RETENTION + timedelta(hours=1)
        with pytest.raises(BackfillError, match="in the future"):
            clamp_since(NOW + timedelta(seconds=1), NOW)


def test_marks_and_events_are_stable() -> None:
    """Stored in the account by setup: renaming them would orphan existing objects."""
    params: Mapping[str, Any] = portal_params("https://x/billing")
    assert params["metadata"] == {"renewal_ledger": "portal_configuration"}
    assert list(ENABLED_EVENTS) == sorted(ENABLED_EVENTS)
    assert len(ENABLED_EVENTS) <= 20  # Stripe's limit on `types` when listing events
