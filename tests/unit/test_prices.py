"""Stripe prices as recorded facts (domain/prices.py) and tax ids (domain/tax_id_events.py),
and their translation from real payloads (adapters/stripe/prices.py, tax_ids.py)."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.stripe.commands import RecordTaxIds
from adapters.stripe.payload import TranslationError
from adapters.stripe.translate import translate
from domain.guards import OrganizerError
from domain.organizer import Organizer
from domain.prices import PriceFacts, PriceTier, StripePrice, price_uuid
from tests.support.stripe_payloads import checkout_event, fixture, subscription_event

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def facts(amount: int | None = 500, *, at: int = 0, source: str = "evt_1", **kw: Any) -> PriceFacts:
    return PriceFacts(
        **{
            "price_id": "price_1",
            "unit_amount": amount,
            "currency": "eur",
            "interval": "month",
            "interval_count": 1,
            "billing_scheme": "per_unit",
            "tiers_mode": None,
            "tiers": (),
            "active": True,
            "deleted": False,
            "observed_at": T0 + timedelta(seconds=at),
            "source": source,
        }
        | kw
    )


def observed(observations: list[PriceFacts]) -> StripePrice:
    price = StripePrice.start("price_1", at=T0)
    for one in observations:
        price.observe(one, at=T0)
    return price


class TestObserve:
    def test_the_stream_id_is_derived_from_the_price_id(self) -> None:
        assert StripePrice.start("price_1", at=T0).id == price_uuid("price_1")
        assert price_uuid("price_1") != price_uuid("price_2")

    def test_a_newer_observation_wins_and_an_older_one_records_nothing(self) -> None:
        price = observed([facts(500, at=10, source="evt_b")])
        assert not price.observe(facts(400, at=5, source="evt_a"), at=T0)
        assert price.observe(facts(600, at=20, source="evt_c"), at=T0)
        current = price.current
        assert current is not None
        assert current.unit_amount == 600

    def test_the_same_delivery_again_records_nothing(self) -> None:
        price = observed([facts(500, at=10)])
        events = len(price.collect_events())
        assert not price.observe(facts(500, at=10), at=T0)
        assert len(price.collect_events()) == 0
        assert events == 2  # started, observed

    def test_tiers_survive_the_event_round_trip(self) -> None:
        tiers = (PriceTier(10, 500, None), PriceTier(None, 400, 100))
        tiered = facts(None, billing_scheme="tiered", tiers_mode="graduated", tiers=tiers)
        price = observed([tiered])
        current = price.current
        assert current is not None
        assert (current.tiers, current.is_per_unit) == (tiers, False)

    def test_another_prices_observation_is_refused(self) -> None:
        with pytest.raises(OrganizerError, match="price_2"):
            observed([facts(price_id="price_2")])

    @pytest.mark.parametrize(
        ("change", "field"),
        [({"unit_amount": -1}, "unit_amount"), ({"interval_count": 0}, "interval_count")],
    )
    def test_an_impossible_fact_is_refused_naming_the_field(
        self, change: dict[str, Any], field: str
    ) -> None:
        with pytest.raises(OrganizerError, match=field):
            facts(**change)


observations = st.lists(
    st.builds(
        lambda amount, at, n: facts(amount, at=at, source=f"evt_{n}"),
        st.integers(0, 5_000),
        st.integers(0, 5),
        st.integers(0, 3),
    ),
    min_size=1,
    max_size=8,
)


@given(observations, st.randoms(use_true_random=False))
def test_any_order_and_duplication_of_observations_ends_on_the_same_facts(
    seen: list[PriceFacts], random: Any
) -> None:
    # Two observations share a key only as the same delivery (same event, same facts).
    by_key = {one.order_key(): one for one in seen}
    unique = list(by_key.values())
    shuffled = [*unique, *random.choices(unique, k=len(unique))]
    random.shuffle(shuffled)
    newest = max(unique, key=PriceFacts.order_key)
    assert observed(shuffled).current == newest
    assert observed(sorted(unique, key=PriceFacts.order_key)).current == newest


def observed_with_items(observations: list[tuple[PriceFacts, bool]]) -> StripePrice:
    price = StripePrice.start("price_1", at=T0)
    for one, in_passing in observations:
        price.observe(one, at=T0, only_if_changed=in_passing)
    return price


@given(st.data())
def test_prices_seen_in_passing_never_hide_the_latest_change(data: st.DataObject) -> None:
    # A price history: change i at 10*i, each with its own price.* event (always
    # recorded when newer), and subscription items showing the price in force at their
    # time (recorded only when they say something new). Any order, any duplicates.
    amounts = data.draw(st.lists(st.integers(0, 1), min_size=1, max_size=4), label="amounts")
    item_times = data.draw(st.lists(st.integers(0, 49), max_size=6), label="item times")
    changes = [(facts(a, at=10 * i, source=f"evt_c{i}"), False) for i, a in enumerate(amounts)]

    def in_force(t: int) -> int:
        return amounts[min(t // 10, len(amounts) - 1)]

    items = [(facts(in_force(t), at=t, source=f"evt_s{t}"), True) for t in item_times]
    everything = [*changes, *items]
    again = data.draw(st.lists(st.sampled_from(everything), max_size=4), label="duplicates")
    order = data.draw(st.permutations([*everything, *again]), label="arrival order")
    current = observed_with_items(order).current
    assert current is not None
    assert current.unit_amount == amounts[-1]


class TestInPassing:
    def test_an_item_price_with_the_same_facts_records_nothing(self) -> None:
        price = observed([facts(500, at=10)])
        assert not price.observe(facts(500, at=20, source="evt_s"), at=T0, only_if_changed=True)
        assert price.observe(facts(600, at=30, source="evt_t"), at=T0, only_if_changed=True)

    def test_a_price_event_with_the_same_facts_is_recorded(self) -> None:
        price = observed([facts(500, at=10)])
        assert price.observe(facts(500, at=20, source="evt_u"), at=T0)


class TestTranslation:
    def test_price_created_carries_the_price_for_no_organizer(self) -> None:
        event = fixture("djstripe/fake_event_price_created.json")
        translation = translate(event)
        assert (translation.outcome, translation.commands, translation.organizer_hint) == (
            "ignored",
            (),
            None,
        )
        (price,) = translation.prices
        assert (price.price_id, price.unit_amount, price.currency) == ("gold21323", 2000, "usd")
        assert (price.interval, price.interval_count, price.active) == ("month", 1, True)
        assert price.source == event["id"]
        assert price.observed_at == datetime.fromtimestamp(event["created"], UTC)

    def test_price_deleted_is_recorded_as_deleted(self) -> None:
        event = fixture("djstripe/fake_event_price_created.json") | {"type": "price.deleted"}
        (price,) = translate(event).prices
        assert price.deleted

    def test_a_malformed_price_fails_translation_naming_the_field(self) -> None:
        event = fixture("djstripe/fake_event_price_created.json")
        event["data"]["object"]["unit_amount"] = "2000"
        with pytest.raises(TranslationError, match=r"data\.object\.unit_amount"):
            translate(event)

    def test_a_subscription_event_records_its_items_prices(self) -> None:
        event = subscription_event("basil", event_id="evt_s")
        item_price = event["data"]["object"]["items"]["data"][0]["price"]
        (price,) = translate(event).prices
        assert (price.price_id, price.unit_amount) == (item_price["id"], item_price["unit_amount"])
        assert price.source == "evt_s"

    def test_an_unreadable_item_price_costs_only_that_price(self) -> None:
        event = subscription_event("basil", event_id="evt_s")
        bad = copy.deepcopy(event)
        bad["data"]["object"]["items"]["data"][0]["price"]["currency"] = "euro"
        translation = translate(bad)
        assert translation.prices == ()
        assert translation.commands == translate(event).commands


class TestTaxIds:
    """Tax ids (domain/tax_id_events.py) from Stripe's example ``tax_id`` and a checkout."""

    def tax_id_event(self, kind: str = "created") -> dict[str, Any]:
        event = fixture("openapi_fixtures3__event.json")
        event.update(id="evt_tx", type=f"customer.tax_id.{kind}", created=1_900_000_000)
        event["data"] = {"object": fixture("openapi_fixtures3__tax_id.json")}
        return event

    def test_a_tax_id_event_records_it_for_the_customer(self) -> None:
        translation = translate(self.tax_id_event())
        assert translation.customer_id == "cus_QXg1o8vcGmoR32"
        assert translation.commands == (
            RecordTaxIds(
                "evt_tx",
                "cus_QXg1o8vcGmoR32",
                (("eu_vat", "DE123456789"),),
                removed=False,
                observed_at=datetime.fromtimestamp(1_900_000_000, UTC),
            ),
        )

    def test_a_deleted_tax_id_is_recorded_as_removed(self) -> None:
        (command,) = translate(self.tax_id_event("deleted")).commands
        assert isinstance(command, RecordTaxIds)
        assert command.removed

    def test_an_accounts_own_tax_id_is_ignored(self) -> None:
        event = self.tax_id_event()
        event["data"]["object"]["customer"] = None
        assert translate(event).outcome == "ignored"

    def test_a_checkout_with_tax_ids_records_them_after_the_link(self) -> None:
        event = checkout_event("basil", event_id="evt_co", client_reference_id="org-1")
        session = event["data"]["object"]
        session["customer_details"] = {"tax_ids": [{"type": "eu_vat", "value": "FR12345678901"}]}
        link, tax_ids = translate(event).commands
        assert isinstance(tax_ids, RecordTaxIds)
        assert (tax_ids.tax_ids, tax_ids.customer_id) == (
            (("eu_vat", "FR12345678901"),),
            getattr(link, "customer_id", None),
        )

    def test_the_same_delivery_twice_records_once(self) -> None:
        organizer = Organizer.register("org-1", at=T0)
        (command,) = translate(self.tax_id_event()).commands
        assert command.apply(organizer, T0)
        assert not command.apply(organizer, T0)
