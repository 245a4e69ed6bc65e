"""The Stripe double's account objects, through the real SDK: Billing Portal
configurations (and portal sessions on them), webhook endpoint updates, and the 30
days Stripe keeps events."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

import pytest
import stripe

if TYPE_CHECKING:
    from tests.e2e.stripe_double_support import DoubleEnv

pytest_plugins = ["tests.e2e.stripe_double_support"]

DAY = 86_400


class TestPortalConfigurations:
    def test_created_with_the_features_given_and_the_rest_off(self, double: DoubleEnv) -> None:
        config = double.stripe.v1.billing_portal.configurations.create(
            params={
                "features": {
                    "subscription_cancel": {"enabled": True, "mode": "at_period_end"},
                    "customer_update": {"enabled": True, "allowed_updates": ["address"]},
                },
                "metadata": {"role": "ledger"},
            }
        )
        assert config.id.startswith("bpc_")
        assert (config.active, config.is_default) == (True, False)
        assert config.features.subscription_cancel.mode == "at_period_end"
        assert config.features.customer_update.allowed_updates == ["address"]
        assert config.features.subscription_update.enabled is False
        assert config.features.invoice_history.enabled is False
        retrieved = double.stripe.v1.billing_portal.configurations.retrieve(config.id)
        assert retrieved.to_dict() == config.to_dict()

    def test_an_update_merges_features_and_metadata(self, double: DoubleEnv) -> None:
        config = double.stripe.v1.billing_portal.configurations.create(
            params={
                "features": {"invoice_history": {"enabled": True}},
                "metadata": {"a": "1"},
            }
        )
        updated = double.stripe.v1.billing_portal.configurations.update(
            config.id,
            params={
                "features": {"payment_method_update": {"enabled": True}},
                "metadata": {"b": "2"},
            },
        )
        assert updated.features.invoice_history.enabled is True
        assert updated.features.payment_method_update.enabled is True
        assert updated.to_dict()["metadata"] == {"a": "1", "b": "2"}

    def test_lists_filter_on_active(self, double: DoubleEnv) -> None:
        features: Any = {"invoice_history": {"enabled": True}}
        kept = double.stripe.v1.billing_portal.configurations.create(params={"features": features})
        gone = double.stripe.v1.billing_portal.configurations.create(params={"features": features})
        double.stripe.v1.billing_portal.configurations.update(gone.id, params={"active": False})
        listed = double.stripe.v1.billing_portal.configurations.list(params={"active": True})
        assert [c.id for c in listed.data] == [kept.id]
        every = double.stripe.v1.billing_portal.configurations.list()
        assert [c.id for c in every.data] == [gone.id, kept.id]  # newest first

    @pytest.mark.parametrize(
        ("params", "param"),
        [
            ({}, "features"),
            ({"features": {"subscription_cancel": {"mode": "at_period_end"}}}, None),
            (
                {"features": {"subscription_update": {"enabled": True}}},
                "features[subscription_update]",
            ),
            (
                {
                    "features": {
                        "subscription_cancel": {
                            "enabled": True,
                            "proration_behavior": "always_invoice",
                        }
                    }
                },
                "features[subscription_cancel][proration_behavior]",
            ),
            (
                {"features": {"customer_update": {"enabled": True, "allowed_updates": ["cat"]}}},
                "features[customer_update][allowed_updates][0]",
            ),
        ],
    )
    def test_invalid_configurations_are_refused_as_stripe_does(
        self, double: DoubleEnv, params: dict[str, object], param: str | None
    ) -> None:
        with pytest.raises(stripe.InvalidRequestError) as refused:
            double.stripe.v1.billing_portal.configurations.create(params=params)  # type: ignore[arg-type]
        if param is not None:
            assert refused.value.param == param
        assert double.stripe.v1.billing_portal.configurations.list().data == []

    def test_portal_sessions_use_an_active_configuration_or_are_refused(
        self, double: DoubleEnv
    ) -> None:
        customer = double.stripe.v1.customers.create(params={"email": "p@example.com"})
        config = double.stripe.v1.billing_portal.configurations.create(
            params={"features": {"invoice_history": {"enabled": True}}}
        )
        session = double.stripe.v1.billing_portal.sessions.create(
            params={"customer": customer.id, "configuration": config.id}
        )
        assert session.configuration == config.id
        with pytest.raises(stripe.InvalidRequestError) as unknown:
            double.stripe.v1.billing_portal.sessions.create(
                params={"customer": customer.id, "configuration": "bpc_nope"}
            )
        assert (unknown.value.code, unknown.value.param) == ("resource_missing", "configuration")
        double.stripe.v1.billing_portal.configurations.update(config.id, params={"active": False})
        with pytest.raises(stripe.InvalidRequestError) as inactive:
            double.stripe.v1.billing_portal.sessions.create(
                params={"customer": customer.id, "configuration": config.id}
            )
        assert inactive.value.param == "configuration"


class TestWebhookEndpoints:
    def test_the_api_version_is_set_on_create_and_cannot_be_updated(
        self, double: DoubleEnv
    ) -> None:
        endpoint = double.stripe.v1.webhook_endpoints.create(
            params={
                "url": "https://l.example.com/hooks",
                "enabled_events": ["invoice.paid"],
                "api_version": "2025-03-31.basil",
            }
        )
        assert endpoint.api_version == "2025-03-31.basil"
        assert str(endpoint.secret).startswith("whsec_")
        with pytest.raises(stripe.InvalidRequestError) as refused:
            double.stripe.v1.webhook_endpoints.update(
                endpoint.id,
                params=cast("Any", {"api_version": "2026-10-28.endive"}),  # not an update param
            )
        assert refused.value.code == "parameter_unknown"
        listed = double.stripe.v1.webhook_endpoints.list().data
        assert [(e.id, e.api_version, e.to_dict().get("secret")) for e in listed] == [
            (endpoint.id, "2025-03-31.basil", None)
        ]


class TestEventRetention:
    def test_events_older_than_30_days_are_neither_listed_nor_retrieved(
        self, double: DoubleEnv
    ) -> None:
        start = int(double.get("/_double/clock")["now"])
        double.post("/_double/clock", {"now": start})
        old = double.stripe.v1.customers.create(params={"email": "old@example.com"})
        [created] = double.stripe.v1.events.list(params={"type": "customer.created"}).data
        assert created.data.object.id == old.id
        double.post("/_double/clock", {"now": start + 30 * DAY + 1})
        double.stripe.v1.customers.create(params={"email": "new@example.com"})
        listed = double.stripe.v1.events.list(params={"type": "customer.created"}).data
        assert [e.data.object.email for e in listed] == ["new@example.com"]
        with pytest.raises(stripe.InvalidRequestError) as gone:
            double.stripe.v1.events.retrieve(created.id)
        assert gone.value.http_status == 404
