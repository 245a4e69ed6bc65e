"""Prices recorded from the inbox into rm_prices, on both stores (domain/prices.py)."""

from __future__ import annotations

from typing import Any

from adapters.persistence.inbox import StripeInbox
from app.bootstrap import Container
from app.services.intake.stripe_inbox import InboxProcessor
from projections import quarantine
from projections.prices import read_price
from projections.runner import READ_MODELS, LogReader, build_read_models, catch_up
from tests.support.inbox import deliver
from tests.support.stripe_payloads import fixture, subscription_event


def price_event(event_id: str, created: int, amount: int, kind: str = "updated") -> dict[str, Any]:
    event = fixture("djstripe/fake_event_price_created.json")
    event.update(id=event_id, created=created, type=f"price.{kind}")
    event["data"]["object"]["unit_amount"] = amount
    return event


def drain(container: Container) -> None:
    processor = InboxProcessor(container.ledger, StripeInbox(container.database))
    while processor.process_pending():
        pass
    catch_up(LogReader(container.ledger), build_read_models(container.database, minimum_quantity=1))


def amount(container: Container, price_id: str = "gold21323") -> int | None:
    recorded = read_price(container.database, price_id)
    return None if recorded is None else recorded.facts.unit_amount


class TestPriceEvents:
    def test_the_newest_price_event_wins_whatever_the_arrival_order(
        self, container: Container
    ) -> None:
        inbox = StripeInbox(container.database)
        deliver(inbox, price_event("evt_p2", 2_000_000_000, 2500))
        drain(container)
        assert amount(container) == 2500
        deliver(inbox, price_event("evt_p1", 1_900_000_000, 2000, "created"))
        drain(container)
        assert amount(container) == 2500
        assert [r.status for r in inbox.rows()] == ["processed", "processed"]
        assert "nothing new" in (inbox.get("evt_p1").reason or "")  # type: ignore[union-attr]

    def test_price_deleted_marks_the_price_deleted(self, container: Container) -> None:
        inbox = StripeInbox(container.database)
        deliver(inbox, price_event("evt_p1", 1_900_000_000, 2000, "created"))
        deliver(inbox, price_event("evt_p9", 1_900_000_100, 2000, "deleted"))
        drain(container)
        recorded = read_price(container.database, "gold21323")
        assert recorded is not None
        assert recorded.facts.deleted

    def test_a_parked_subscription_event_still_records_its_price(
        self, container: Container
    ) -> None:
        inbox = StripeInbox(container.database)
        event = subscription_event("basil", event_id="evt_s1")  # no organizer linked yet
        price_id = event["data"]["object"]["items"]["data"][0]["price"]["id"]
        deliver(inbox, event)
        drain(container)
        assert inbox.get("evt_s1").status == "parked"  # type: ignore[union-attr]
        assert amount(container, price_id) is not None


class TestOtherReadModels:
    def test_every_organizer_read_model_passes_over_price_events(
        self, container: Container
    ) -> None:
        deliver(StripeInbox(container.database), price_event("evt_p1", 1_900_000_000, 2000))
        drain(container)
        with container.database.transaction() as cursor:
            for name, model in READ_MODELS.items():
                for spec in model.tables:
                    rows = cursor.execute(f"SELECT COUNT(*) AS n FROM {spec.name}").fetchone()
                    assert rows is not None
                    assert (name, rows["n"]) == (name, 1 if name == "prices" else 0)
            held = cursor.execute(
                f"SELECT COUNT(*) AS n FROM {quarantine.QUARANTINE.name}"
            ).fetchone()
            assert held is not None
            assert held["n"] == 0
