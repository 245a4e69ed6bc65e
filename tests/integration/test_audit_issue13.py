"""The issue-13 facts in the audit trail, on both stores: a second subscription (observed,
found a duplicate, resolved), the customer's tax ids and Stripe's renewal previews; the
export holds them and still verifies."""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from typing import Any

import orjson

from app.bootstrap import Container
from app.services.audit.entries import AuditFilter
from app.services.audit.export import export_entries, verify_export
from app.services.audit.formats import JsonLines
from domain.organizer import Organizer
from domain.preview_events import preview_source, record_renewal_preview
from domain.tax_id_events import record_tax_ids
from projections.runner import LogReader, build_read_models, catch_up, replay
from projections.times import fmt_time
from tests.unit.test_duplicate_subscriptions import PERIOD_END, T0, snapshot

Entry = dict[str, Any]


def observe(container: Container, subscription_id: str, quantity: int, status: str) -> None:
    at = T0 + timedelta(minutes=len(container.ledger.get("org-13").subscriptions) + 5)
    container.ledger.update(
        "org-13",
        lambda org, now: org.observe_subscription(
            snapshot(
                subscription_id,
                created=T0 if subscription_id == "sub_first" else T0 + timedelta(minutes=1),
                status=status,
                observed_at=at,
                quantity=quantity,
            ),
            source=f"evt_{subscription_id}_{status}",
            at=now,
        ),
        register=True,
    )


def history(container: Container) -> None:
    """org-13: a customer, a primary subscription, a second one (a duplicate) later
    canceled, tax ids added then one removed, and a renewal preview."""
    ledger = container.ledger
    ledger.register_organizer("org-13")

    def link(org: Organizer, at: datetime) -> bool:
        return org.link_stripe_customer("cus_13", source="evt_cus", at=at)

    ledger.update("org-13", link)
    observe(container, "sub_first", 3, "active")
    observe(container, "sub_second", 2, "active")
    observe(container, "sub_second", 2, "canceled")
    for source, pairs, removed in (
        ("evt_tax_1", (("eu_vat", "DE123456789"), ("gb_vat", "GB123456789")), False),
        ("evt_tax_2", (("gb_vat", "GB123456789"),), True),
    ):
        ledger.update(
            "org-13",
            lambda org, at, s=source, p=pairs, r=removed: record_tax_ids(  # type: ignore[misc]
                org, customer_id="cus_13", tax_ids=p, removed=r, observed_at=T0, source=s, at=at
            ),
        )
    ledger.update(
        "org-13",
        lambda org, at: record_renewal_preview(
            org,
            subscription_id="sub_first",
            price_id="price_group",
            quantity=3,
            subtotal=1500,
            tax=285,
            total=1785,
            currency="eur",
            period_end=PERIOD_END,
            at=at,
        ),
    )
    catch_up(LogReader(ledger), build_read_models(container.database, minimum_quantity=1))


def entries(container: Container) -> list[Entry]:
    with container.database.transaction() as cursor:
        found = [
            dict(r)
            for r in cursor.execute(
                "SELECT * FROM rm_audit_entries ORDER BY position, seq"
            ).fetchall()
        ]
    for entry in found:
        entry["details"] = orjson.loads(entry["details"]) if entry["details"] else None
    return found


def of_kind(container: Container, kind: str) -> list[Entry]:
    return [e for e in entries(container) if e["kind"] == kind]


class TestIssue13FactsInTheAuditTrail:
    def test_the_second_subscription_is_observed_found_and_resolved(
        self, container: Container
    ) -> None:
        history(container)
        kinds = [e["kind"] for e in entries(container) if e["subscription_id"] == "sub_second"]
        assert kinds == [
            "other_subscription_observed",
            "duplicate_subscription_found",
            "other_subscription_observed",
            "duplicate_subscription_resolved",
        ]
        [found] = of_kind(container, "duplicate_subscription_found")
        assert found["organizer_id"] == "org-13"
        assert found["cause"] == (
            "second live subscription of customer cus_13 (the ledger bills sub_first)"
        )
        assert found["details"] == {
            "primary_subscription_id": "sub_first",
            "customer_id": "cus_13",
        }
        [resolved] = of_kind(container, "duplicate_subscription_resolved")
        assert resolved["details"]["primary_subscription_id"] == "sub_first"
        assert resolved["cause"] == f"no longer a duplicate: {resolved['details']['reason']}"
        other = of_kind(container, "other_subscription_observed")[0]
        assert (other["quantity"], other["stripe_event_id"]) == (2, "evt_sub_second_active")
        assert other["cause"] == "stripe evt_sub_second_active"
        assert other["details"] == {
            "status": "active",
            "price_id": "price_group",
            "period_start": fmt_time(PERIOD_END - timedelta(days=30)),
            "period_end": fmt_time(PERIOD_END),
        }

    def test_tax_ids_added_and_removed_name_the_customer_and_each_id(
        self, container: Container
    ) -> None:
        history(container)
        [added] = of_kind(container, "tax_ids_observed")
        [removed] = of_kind(container, "tax_ids_removed")
        assert added["details"] == {
            "customer_id": "cus_13",
            "tax_ids": [
                {"type": "eu_vat", "value": "DE123456789"},
                {"type": "gb_vat", "value": "GB123456789"},
            ],
        }
        assert removed["details"]["tax_ids"] == [{"type": "gb_vat", "value": "GB123456789"}]
        assert (added["cause"], removed["cause"]) == ("stripe evt_tax_1", "stripe evt_tax_2")
        assert added["amount"] is None

    def test_a_renewal_preview_carries_its_amounts_in_minor_units(
        self, container: Container
    ) -> None:
        history(container)
        [preview] = of_kind(container, "renewal_previewed")
        source = preview_source("sub_first", "price_group", 3, PERIOD_END)
        assert (preview["amount"], preview["currency"], preview["quantity"]) == (1785, "eur", 3)
        assert preview["subscription_id"] == "sub_first"
        assert preview["cause"] == f"renewal preview {source}"
        assert preview["details"] == {
            "price_id": "price_group",
            "subtotal": 1500,
            "tax": 285,
            "period_end": fmt_time(PERIOD_END),
        }

    def test_the_export_holds_them_verifies_and_a_replay_gives_the_same_rows(
        self, container: Container
    ) -> None:
        history(container)
        first, again = io.BytesIO(), io.BytesIO()
        summary = export_entries(container.database, AuditFilter(), JsonLines(), first)
        export_entries(container.database, AuditFilter(), JsonLines(), again)
        assert first.getvalue() == again.getvalue()
        kinds = {orjson.loads(line).get("kind") for line in first.getvalue().splitlines()[1:-1]}
        assert {
            "other_subscription_observed",
            "duplicate_subscription_found",
            "duplicate_subscription_resolved",
            "tax_ids_observed",
            "tax_ids_removed",
            "renewal_previewed",
        } <= kinds
        assert verify_export(io.BytesIO(first.getvalue())) == summary
        before = entries(container)
        replay(container.ledger, container.database, ["audit"], minimum_quantity=1)
        assert entries(container) == before
