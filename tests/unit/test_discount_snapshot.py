"""A subscription's discounts in its snapshot (issue 13): read from ids, expanded objects
or the legacy ``discount``; stored state round-trips; a discount change is a new fact."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from adapters.persistence.transcoder import ledger_transcoder
from adapters.stripe.objects import read_subscription
from adapters.stripe.payload import TranslationError
from domain.billing import SubscriptionSnapshot
from domain.preview_events import preview_source

AT = datetime(2026, 1, 15, tzinfo=UTC)


def subscription(**fields: Any) -> dict[str, Any]:
    item = {
        "id": "si_1",
        "object": "subscription_item",
        "quantity": 3,
        "created": 1,
        "price": {"id": "price_1"},
        "current_period_start": int(AT.timestamp()),
        "current_period_end": int(AT.timestamp()) + 86_400 * 31,
    }
    return {
        "id": "sub_1",
        "object": "subscription",
        "status": "active",
        "customer": "cus_1",
        "cancel_at_period_end": False,
        "items": {"object": "list", "data": [item]},
        **fields,
    }


def discounts_of(**fields: Any) -> tuple[str, ...]:
    read = read_subscription(subscription(**fields), observed_at=AT)
    assert read is not None
    return read.snapshot.discount_ids


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({}, ()),
        ({"discounts": []}, ()),
        ({"discounts": ["di_1", "di_2"]}, ("di_1", "di_2")),
        ({"discounts": [{"id": "di_1", "object": "discount"}, "di_2"]}, ("di_1", "di_2")),
        ({"discount": {"id": "di_old", "object": "discount"}}, ("di_old",)),
        ({"discounts": ["di_1"], "discount": None}, ("di_1",)),
    ],
)
def test_discounts_are_read_as_ids(fields: dict[str, Any], expected: tuple[str, ...]) -> None:
    assert discounts_of(**fields) == expected


def test_malformed_discounts_name_their_path() -> None:
    with pytest.raises(TranslationError, match="discounts"):
        discounts_of(discounts="di_1")
    with pytest.raises(TranslationError, match=r"discounts\.0"):
        discounts_of(discounts=[{"object": "discount"}])


def snapshot(**changes: Any) -> SubscriptionSnapshot:
    base = SubscriptionSnapshot(
        subscription_id="sub_1",
        item_id="si_1",
        price_id="price_1",
        status="active",
        quantity=3,
        current_period_start=AT,
        current_period_end=AT,
        observed_at=AT,
    )
    return replace(base, **changes)


def test_stored_state_round_trips_and_old_state_has_none() -> None:
    transcoder = ledger_transcoder()
    with_discounts = snapshot(discount_ids=("di_1",))
    stored = transcoder.decode(transcoder.encode(with_discounts.as_state()))
    assert SubscriptionSnapshot.from_state(stored) == with_discounts
    old = {k: v for k, v in snapshot().as_state().items() if k != "discount_ids"}
    assert SubscriptionSnapshot.from_state(old).discount_ids == ()


def test_a_discount_change_is_a_new_fact() -> None:
    assert not snapshot(discount_ids=("di_1",)).same_facts(snapshot())
    assert snapshot(discount_ids=("di_1",)).same_facts(
        snapshot(discount_ids=("di_1",), observed_at=AT.replace(hour=1))
    )


def test_the_preview_key_without_discounts_is_the_key_from_before() -> None:
    key = preview_source("sub_1", "price_1", 3, AT)
    assert key == f"preview:sub_1:price_1:3:{int(AT.timestamp())}"
    assert preview_source("sub_1", "price_1", 3, AT, ("di_1",)) == key + ":di_1"
