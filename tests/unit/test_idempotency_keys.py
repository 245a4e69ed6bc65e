"""Idempotency keys are sent to Stripe: the same request keeps its key byte for byte
(a changed key makes a retry a second charge), and different requests never share one.

The pinned strings were computed by the code before the keys moved to ``domain/keys.py``.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from domain.corrections import CorrectionKind
from domain.keys import (
    checkout_key,
    correction_identity,
    customer_key,
    fresh_key,
    move_key,
    step_key,
    sync_attempt_key,
    sync_identity,
)
from domain.organizer import Organizer, organizer_uuid
from domain.syncs import SyncState

RENEWED = datetime(2026, 2, 1, tzinfo=UTC)
ids = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_-", min_size=1, max_size=12)
counts = st.integers(min_value=0, max_value=10_000)


def sync(**changes: object) -> SyncState:
    fields: dict[str, object] = {
        "status": "retrying",
        "quantity": 7,
        "subscription_id": "sub_1",
        "item_id": "si_1",
        "period_end": RENEWED.isoformat(),
        "proration_behavior": "none",
        "generation": 1,
        "idempotency_key": "renewal-ledger-k",
        "requested_at": RENEWED,
    }
    return SyncState.from_state(fields | changes)


class TestQuantitySyncKeys:
    def test_a_sync_request_keeps_its_id_and_key(self) -> None:
        assert sync_identity(
            organizer_id="org-1", item_id="si_1", period_end=RENEWED, quantity=7, generation=1
        ) == (
            "sync_4b0b6d93e36f33a166ac2124",
            "renewal-ledger-4b0b6d93e36f33a166ac21246cdc426f1d1132ffe8ec48f5",
        )

    def test_the_same_period_end_in_another_offset_gives_the_same_key(self) -> None:
        paris = RENEWED.astimezone(timezone(timedelta(hours=1)))
        made = [
            sync_identity(organizer_id="o", item_id="i", period_end=end, quantity=1, generation=1)
            for end in (RENEWED, paris)
        ]
        assert made[0] == made[1]

    def test_the_next_attempt_uses_the_recorded_key_else_the_derived_one(self) -> None:
        assert Organizer.sync_key(sync(key_generation=2)) == "renewal-ledger-k-r2"
        assert Organizer.sync_key(sync(next_key="renewal-ledger-k-r9")) == "renewal-ledger-k-r9"
        assert Organizer.sync_key(sync()) == "renewal-ledger-k"
        assert (
            sync_attempt_key(idempotency_key="renewal-ledger-k", key_generation=1, next_key="")
            == "renewal-ledger-k-r1"
        )

    @given(
        st.lists(st.tuples(ids, ids, counts, counts, counts), min_size=2, max_size=6, unique=True)
    )
    def test_distinct_requests_get_distinct_ids_and_keys(
        self, requests: list[tuple[str, str, int, int, int]]
    ) -> None:
        made = [
            sync_identity(
                organizer_id=organizer,
                item_id=item,
                period_end=RENEWED + timedelta(days=days),
                quantity=quantity,
                generation=generation,
            )
            for organizer, item, days, quantity, generation in requests
        ]
        assert len({sync_id for sync_id, _ in made}) == len(requests)
        assert len({key for _, key in made}) == len(requests)


class TestCorrectionKeys:
    def test_a_correction_keeps_its_id_and_key_base(self) -> None:
        assert correction_identity(
            organizer_id="org-1",
            invoice_id="in_1",
            kind=CorrectionKind.DRAFT_ITEM,
            billed_quantity=5,
            target_quantity=7,
            generation=1,
        ) == (
            "corr_686df977811983275e8776b2",
            "renewal-ledger-corr-686df977811983275e8776b2923e1ca79a9e6705f5f",
        )
        assert correction_identity(
            organizer_id="org-1",
            invoice_id="in_1",
            kind=CorrectionKind.CREDIT_NOTE,
            billed_quantity=7,
            target_quantity=5,
            generation=2,
        ) == (
            "corr_fa38b65bc5ab7749983050dd",
            "renewal-ledger-corr-fa38b65bc5ab7749983050dd850e95680abf6c21fee",
        )

    def test_each_step_has_its_own_key_fresh_after_an_unknown_outcome(self) -> None:
        state = {"idempotency_key": "renewal-ledger-corr-abc", "key_generation": 1}
        assert step_key(state, "item") == "renewal-ledger-corr-abc-item-r1"
        assert step_key(state, "invoice", 0) == "renewal-ledger-corr-abc-invoice"
        assert step_key(state, "credit-line", 2) == "renewal-ledger-corr-abc-credit-line-r2"

    @given(
        st.lists(
            st.tuples(st.sampled_from(["item", "invoice", "credit-line"]), counts),
            min_size=2,
            max_size=6,
            unique=True,
        )
    )
    def test_distinct_steps_and_generations_get_distinct_keys(
        self, calls: list[tuple[str, int]]
    ) -> None:
        state = {"idempotency_key": "renewal-ledger-corr-abc", "key_generation": 0}
        keys = {step_key(state, step, generation) for step, generation in calls}
        assert len(keys) == len(calls)


class TestFreshKeys:
    def test_generation_zero_is_the_base_then_a_suffix(self) -> None:
        assert [fresh_key("base", g) for g in range(3)] == ["base", "base-r1", "base-r2"]

    @given(st.sets(counts, min_size=2, max_size=8))
    def test_distinct_generations_get_distinct_keys(self, generations: set[int]) -> None:
        assert len({fresh_key("base", g) for g in generations}) == len(generations)


class TestEnrollmentKeys:
    def test_checkout_and_customer_keys_keep_their_format(self) -> None:
        organizer = organizer_uuid("org-1").hex
        assert organizer == "00fc94777cc4561dac9d8209d4c82bbb"
        assert (
            checkout_key(organizer, 2, 5) == "ledger-checkout-00fc94777cc4561dac9d8209d4c82bbb-2-5"
        )
        assert customer_key(organizer) == "ledger-customer-00fc94777cc4561dac9d8209d4c82bbb"

    @given(st.lists(st.tuples(ids, counts, counts), min_size=2, max_size=6, unique=True))
    def test_distinct_attempts_get_distinct_checkout_keys(
        self, attempts: list[tuple[str, int, int]]
    ) -> None:
        keys = {
            checkout_key(organizer_uuid(o).hex, attempt, quantity)
            for o, attempt, quantity in attempts
        }
        assert len(keys) == len(attempts)


class TestMoveKeys:
    def test_a_move_keeps_its_key(self) -> None:
        assert move_key("org-1", "si_1", "price_g", 3) == (
            "ledger-move-" + hashlib.sha256(b"org-1|si_1|price_g|3").hexdigest()[:48]
        )

    def test_another_quantity_or_item_is_another_request(self) -> None:
        keys = {move_key("org-1", "si_1", "price_g", 3), move_key("org-1", "si_1", "price_g", 4)}
        keys.add(move_key("org-1", "si_2", "price_g", 3))
        assert len(keys) == 3
