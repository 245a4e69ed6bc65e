"""Renewal invoice corrections on the in-memory store (issue 10): given a renewal invoice
and the groups active when its period started, which correction is recorded — once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from app.services.ledger import LedgerApplication
from domain.billing import InvoiceFacts, SubscriptionSnapshot
from domain.corrections import CorrectionKind
from domain.groups import GroupAction
from domain.organizer import Organizer
from tests.support.clock import SteppingClock

RENEWED = datetime(2026, 2, 1, tzinfo=UTC)  # the period start the invoice bills
NEXT = RENEWED + timedelta(days=28)
UNIT = 1000
MEMORY = {"PERSISTENCE_MODULE": "eventsourcing.popo", "LEDGER_SNAPSHOT_INTERVAL": "4"}


@pytest.fixture
def ledger() -> LedgerApplication:
    clock = SteppingClock(RENEWED + timedelta(minutes=5), step=timedelta(seconds=1))
    app = LedgerApplication(MEMORY, clock=clock)
    snapshot = SubscriptionSnapshot(
        subscription_id="sub_1",
        item_id="si_1",
        price_id="price_group",
        status="active",
        quantity=5,
        current_period_start=RENEWED - timedelta(days=31),
        current_period_end=RENEWED,
        observed_at=RENEWED - timedelta(days=3),
    )
    app.update(
        "org-1",
        lambda org, at: org.observe_subscription(snapshot, source="evt_sub", at=at),
        register=True,
    )
    return app


def groups(ledger: LedgerApplication, count: int, *, start: int = 0, at: datetime) -> None:
    for i in range(start, start + count):
        ledger.change_group(
            "org-1",
            action=GroupAction.ACTIVATED,
            group_id=f"g{i}",
            change_id=f"c{i}",
            occurred_at=at,
        )


def record(
    ledger: LedgerApplication,
    *,
    status: str = "draft",
    billed: int = 5,
    source: str | None = None,
    unit_amount: int | None = UNIT,
) -> None:
    facts = InvoiceFacts(
        invoice_id="in_renewal",
        subscription_id="sub_1",
        billing_reason="subscription_cycle",
        period_start=RENEWED,
        period_end=NEXT,
        quantity=billed,
        subtotal=billed * UNIT,
        tax=0,
        total=billed * UNIT,
        amount_due=billed * UNIT,
        amount_paid=billed * UNIT if status == "paid" else 0,
        currency="eur",
        status=status,
        customer_id="cus_1",
        line_id="il_group",
        unit_amount=unit_amount,
    )
    ledger.update(
        "org-1", lambda org, at: org.record_invoice(facts, source=source or f"evt_{status}", at=at)
    )


def correct(ledger: LedgerApplication) -> list[str]:
    return ledger.update(
        "org-1",
        lambda org, at: org.correct_renewal_invoices(minimum=1, at=at, cause="test"),
    )


def corrections(ledger: LedgerApplication) -> list[dict[str, Any]]:
    return list(ledger.get("org-1").corrections.values())


def requested(ledger: LedgerApplication) -> list[Organizer.CorrectionRequested]:
    stream = ledger.events.get(ledger.get("org-1").id)
    return [e for e in stream if isinstance(e, Organizer.CorrectionRequested)]


def settle(ledger: LedgerApplication, correction_id: str) -> None:
    ledger.update(
        "org-1",
        lambda org, at: org.confirm_correction(
            correction_id, stripe_object_id="ii_1", stripe_request_id="req_1", at=at
        ),
    )


class TestCorrectTheOpenDraft:
    def test_a_draft_billing_too_few_groups_gets_an_item_for_the_difference(
        self, ledger: LedgerApplication
    ) -> None:
        groups(ledger, 7, at=RENEWED - timedelta(days=2))
        record(ledger, billed=5)
        (decided,) = correct(ledger)
        (event,) = requested(ledger)
        assert isinstance(event, Organizer.DraftCorrectionRequested)
        assert (event.correction_id, event.kind) == (decided, CorrectionKind.DRAFT_ITEM)
        assert (event.billed_quantity, event.target_quantity, event.quantity) == (5, 7, 2)
        assert (event.amount, event.currency, event.invoice_id) == (2 * UNIT, "eur", "in_renewal")

    def test_fewer_groups_get_a_negative_item(self, ledger: LedgerApplication) -> None:
        groups(ledger, 3, at=RENEWED - timedelta(days=2))
        record(ledger, billed=5)
        correct(ledger)
        ((event,), (state,)) = requested(ledger), corrections(ledger)
        assert (event.quantity, event.amount, state["status"]) == (-2, -2 * UNIT, "pending")

    def test_only_changes_before_the_period_start_count(self, ledger: LedgerApplication) -> None:
        groups(ledger, 5, at=RENEWED - timedelta(days=2))
        groups(ledger, 2, start=10, at=RENEWED + timedelta(minutes=1))  # after the renewal
        record(ledger, billed=5)
        assert correct(ledger) == []

    def test_a_draft_already_right_gets_nothing(self, ledger: LedgerApplication) -> None:
        groups(ledger, 5, at=RENEWED - timedelta(days=2))
        record(ledger, billed=5)
        assert (correct(ledger), corrections(ledger)) == ([], [])

    def test_a_draft_corrected_twice_is_corrected_once(self, ledger: LedgerApplication) -> None:
        groups(ledger, 7, at=RENEWED - timedelta(days=2))
        record(ledger, billed=5)
        first = correct(ledger)
        record(ledger, billed=5, source="evt_duplicate")  # a duplicate delivery
        assert (len(first), correct(ledger), correct(ledger)) == (1, [], [])

    def test_the_same_decision_has_the_same_key(self) -> None:
        keys = []
        for _ in range(2):
            app = LedgerApplication(MEMORY, clock=SteppingClock(RENEWED + timedelta(hours=1)))
            groups(app, 7, at=RENEWED - timedelta(days=2))
            record(app, billed=5)
            correct(app)
            keys.append([(e.correction_id, e.idempotency_key) for e in requested(app)])
        assert keys[0] == keys[1]

    def test_a_late_group_change_for_the_period_adds_the_rest(
        self, ledger: LedgerApplication
    ) -> None:
        groups(ledger, 7, at=RENEWED - timedelta(days=2))
        record(ledger, billed=5)
        correct(ledger)
        groups(ledger, 1, start=20, at=RENEWED - timedelta(hours=1))  # arrives late
        correct(ledger)
        assert [e.quantity for e in requested(ledger)] == [2, 1]
        assert len({e.idempotency_key for e in requested(ledger)}) == 2

    def test_no_invoice_price_means_a_recorded_reason_once(self, ledger: LedgerApplication) -> None:
        groups(ledger, 7, at=RENEWED - timedelta(days=2))
        record(ledger, billed=5, unit_amount=None)
        correct(ledger)
        correct(ledger)
        stream = list(ledger.events.get(ledger.get("org-1").id))
        left = [e for e in stream if isinstance(e, Organizer.RenewalInvoiceLeftUncorrected)]
        assert [(e.billed_quantity, e.target_quantity) for e in left] == [(5, 7)]
        assert "per-group price" in left[0].reason


class TestMissedTheDraft:
    def test_more_groups_on_a_finalised_invoice_is_a_one_off_invoice(
        self, ledger: LedgerApplication
    ) -> None:
        groups(ledger, 7, at=RENEWED - timedelta(days=2))
        record(ledger, status="open", billed=5)
        correct(ledger)
        (event,) = requested(ledger)
        assert isinstance(event, Organizer.LateDifferenceRequested)
        assert (event.kind, event.quantity, event.amount) == ("one_off_invoice", 2, 2 * UNIT)

    def test_fewer_groups_on_a_paid_invoice_is_a_credit_note(
        self, ledger: LedgerApplication
    ) -> None:
        groups(ledger, 4, at=RENEWED - timedelta(days=2))
        record(ledger, status="paid", billed=5)
        correct(ledger)
        (event,) = requested(ledger)
        assert (event.kind, event.quantity, event.line_id) == ("credit_note", -1, "il_group")

    def test_a_finalised_invoice_waits_for_its_draft_correction(
        self, ledger: LedgerApplication
    ) -> None:
        groups(ledger, 7, at=RENEWED - timedelta(days=2))
        record(ledger, billed=5)
        (draft,) = correct(ledger)
        record(ledger, status="open", billed=5)
        assert correct(ledger) == []  # the item may still land (or be refused)
        settle(ledger, draft)
        assert correct(ledger) == []

    def test_a_refused_draft_correction_becomes_a_late_difference_at_once(
        self, ledger: LedgerApplication
    ) -> None:
        groups(ledger, 7, at=RENEWED - timedelta(days=2))
        record(ledger, billed=5)
        (draft,) = correct(ledger)
        late = ledger.update(
            "org-1",
            lambda org, at: org.miss_draft_correction(
                draft, reason="invoice_not_editable", minimum=1, at=at
            ),
        )
        states = ledger.get("org-1").corrections
        assert states[draft]["status"] == "missed"
        assert (states[late]["kind"], states[late]["quantity"]) == ("one_off_invoice", 2)
        assert ledger.get("org-1").renewal_invoices["in_renewal"]["editable"] is False
        assert correct(ledger) == []

    def test_a_finished_period_is_not_corrected_any_more(self, ledger: LedgerApplication) -> None:
        groups(ledger, 7, at=RENEWED - timedelta(days=2))
        record(ledger, status="paid", billed=5)
        ledger.clock.now = NEXT + timedelta(seconds=1)  # type: ignore[attr-defined]
        assert correct(ledger) == []


class TestAttempts:
    def test_an_unknown_outcome_records_a_fresh_key_for_the_next_attempt(
        self, ledger: LedgerApplication
    ) -> None:
        groups(ledger, 7, at=RENEWED - timedelta(days=2))
        record(ledger, billed=5)
        (draft,) = correct(ledger)
        ledger.update(
            "org-1",
            lambda org, at: org.fail_correction(
                draft,
                error_code="api_error",
                message="boom",
                retryable=True,
                outcome_unknown=True,
                next_attempt_at=at,
                step="item",
                at=at,
            ),
        )
        state = ledger.get("org-1").corrections[draft]
        assert (state["status"], state["verify_first"], state["key_generation"]) == (
            "retrying",
            True,
            1,
        )
        stream = list(ledger.events.get(ledger.get("org-1").id))
        (failed,) = [e for e in stream if isinstance(e, Organizer.CorrectionAttemptFailed)]
        assert failed.next_idempotency_key == f"{state['idempotency_key']}-item-r1"


def test_a_snapshot_taken_before_corrections_existed_still_loads() -> None:
    state: dict[str, Any] = {"platform_organizer_id": "org-1"}
    Organizer.upcast_v1_v2(state)
    assert (state["renewal_invoices"], state["corrections"]) == ({}, {})
