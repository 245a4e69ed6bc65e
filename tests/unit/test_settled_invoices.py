"""Settled invoices, payments and renewal notices leave the state; claims answer (issue 12).

The reference for every property is a bare organizer, which never forgets (no claims are
lent to it), fed the same inputs with the deliveries the ledger's claims would refuse
(same kind, same source) skipped: whatever the order, duplication or delay of the inputs,
the ledger (which forgets) records the same facts and holds the reference's state minus
the entries it forgot.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from app.services.ledger import LedgerApplication
from domain.billing import InvoiceFacts
from domain.claims import invoice_final_key, payment_key
from domain.organizer import Organizer, organizer_uuid
from domain.settled import is_final
from tests.support.clock import SteppingClock

T0 = datetime(2026, 1, 1, tzinfo=UTC)
DAY = timedelta(days=1)
MEMORY = {"PERSISTENCE_MODULE": "eventsourcing.popo", "LEDGER_SNAPSHOT_INTERVAL": "3"}
# Two renewal invoices (periods ending on day 30 and day 60) and a one-off invoice.
PERIODS = {"in_a": (T0, T0 + 30 * DAY), "in_b": (T0 + 30 * DAY, T0 + 60 * DAY)}


def facts(invoice_id: str, status: str) -> InvoiceFacts:
    start, end = PERIODS.get(invoice_id, (T0, T0 + 30 * DAY))
    return InvoiceFacts(
        invoice_id=invoice_id,
        subscription_id="sub_1",
        billing_reason="subscription_cycle" if invoice_id in PERIODS else "manual",
        period_start=start,
        period_end=end,
        quantity=3,
        subtotal=1500,
        tax=300,
        total=1800,
        amount_due=1800,
        amount_paid=1800 if status == "paid" else 0,
        currency="eur",
        status=status,
        customer_id="cus_1",
        line_id="il_1",
        unit_amount=500,
    )


@dataclass(frozen=True)
class Input:
    """One Stripe delivery (``source``) about one invoice, ``days`` after the previous."""

    kind: str  # invoice status, "succeeded" or "failed:<n>"
    invoice_id: str
    source: str
    days: int

    def fact(self) -> str:
        if self.kind == "succeeded":
            return "PaymentSucceeded"
        return "PaymentFailed" if self.kind.startswith("failed") else "InvoiceRecorded"

    def apply(self, org: Organizer, at: datetime) -> bool:
        if self.kind == "succeeded":
            return org.record_payment_succeeded(
                invoice_id=self.invoice_id, amount=1800, currency="eur", source=self.source, at=at
            )
        if self.kind.startswith("failed"):
            return org.record_payment_failed(
                invoice_id=self.invoice_id,
                amount=1800,
                currency="eur",
                attempt_count=int(self.kind.split(":")[1]),
                source=self.source,
                at=at,
            )
        return org.record_invoice(facts(self.invoice_id, self.kind), source=self.source, at=at)


KINDS = ["draft", "open", "paid", "void", "uncollectible", "succeeded", "failed:1", "failed:2"]
deliveries = st.builds(
    Input,
    kind=st.sampled_from(KINDS),
    invoice_id=st.sampled_from(["in_a", "in_b", "in_x"]),
    source=st.sampled_from([f"evt_{i}" for i in range(12)]),
    days=st.sampled_from([0, 1, 20, 45]),
)


def recorded(events: Sequence[object]) -> list[tuple[object, ...]]:
    """What each fact said (``claimed`` is how it is remembered, not what it says)."""
    return [
        (type(e).__name__, vars(e).get("invoice_id"), vars(e).get("status"), e.source)
        for e in events
        if isinstance(e, Organizer.StripeFact)
    ]


class Reference:
    """A bare organizer that never forgets, skipping what the claims would refuse."""

    def __init__(self) -> None:
        self.organizer = Organizer.register("org-1", at=T0)
        self.taken: set[tuple[str, str]] = set()

    def take(self, delivery: Input, at: datetime) -> bool:
        if (delivery.fact(), delivery.source) in self.taken:
            return False
        done = delivery.apply(self.organizer, at)
        for event in self.organizer.pending_events:
            if isinstance(event, Organizer.StripeFact):
                self.taken.add((type(event).__name__, event.source))
        return done


def take(ledger: LedgerApplication, delivery: Input) -> bool:
    return ledger.update("org-1", delivery.apply)


def run(inputs: list[Input]) -> tuple[LedgerApplication, Reference, list[bool], list[bool]]:
    clock = SteppingClock(T0)
    ledger = LedgerApplication(MEMORY, clock=clock)
    ledger.register_organizer("org-1")
    reference = Reference()
    got, expected = [], []
    for delivery in inputs:
        at = clock.advance(delivery.days * DAY + timedelta(minutes=1))
        got.append(take(ledger, delivery))
        expected.append(reference.take(delivery, at))
    return ledger, reference, got, expected


@settings(max_examples=150, deadline=None)
@given(st.lists(deliveries, max_size=25))
def test_forgetting_never_changes_what_is_recorded(inputs: list[Input]) -> None:
    ledger, reference, got, expected = run(inputs)
    assert got == expected
    stored = list(ledger.events.get(organizer_uuid("org-1")))
    assert recorded(stored) == recorded(list(reference.organizer.collect_events()))


@settings(max_examples=150, deadline=None)
@given(st.lists(deliveries, max_size=25))
def test_the_state_is_the_reference_minus_what_claims_remember(inputs: list[Input]) -> None:
    ledger, reference, _, _ = run(inputs)
    organizer, full = ledger.get("org-1"), reference.organizer
    for invoice_id, status in full.invoices.items():
        if invoice_id in organizer.invoices:
            assert organizer.invoices[invoice_id] == status
        else:  # forgotten: final, and its claim says so
            assert is_final(status)
            assert ledger.claimed(organizer.id, invoice_final_key(invoice_id))
    assert organizer.renewal_invoices == {
        i: r for i, r in full.renewal_invoices.items() if i in organizer.renewal_invoices
    }
    for invoice_id, status in full.payments.items():
        if invoice_id not in organizer.payments:
            assert status == "succeeded"
            assert ledger.claimed(organizer.id, payment_key(invoice_id))


def test_a_paid_renewal_invoice_leaves_the_state_once_its_period_ended() -> None:
    clock = SteppingClock(T0)
    ledger = LedgerApplication(MEMORY, clock=clock)
    ledger.register_organizer("org-1")
    steps = [
        Input("draft", "in_a", "evt_1", 0),
        Input("open", "in_a", "evt_2", 0),
        Input("succeeded", "in_a", "evt_3", 0),
        Input("paid", "in_a", "evt_4", 0),
    ]
    for step in steps:
        clock.advance(timedelta(minutes=1))
        assert take(ledger, step)
    assert "in_a" in ledger.get("org-1").renewal_invoices  # its period is still running
    clock.advance(34 * DAY)  # its period ended more than DRAFT_WINDOW ago
    assert ledger.update("org-1", lambda org, at: Input("draft", "in_b", "evt_5", 0).apply(org, at))
    organizer = ledger.get("org-1")
    assert "in_a" not in organizer.invoices
    assert "in_a" not in organizer.renewal_invoices
    assert organizer.payments == {}
    version = organizer.version
    late = [
        Input("open", "in_a", "evt_6", 0),
        Input("void", "in_a", "evt_7", 0),
        Input("succeeded", "in_a", "evt_8", 0),
        Input("failed:3", "in_a", "evt_9", 0),
    ]
    for step in late:  # late deliveries about the forgotten invoice: the claims refuse them
        assert not take(ledger, step)
    assert ledger.get("org-1").version == version


def test_a_bare_organizer_forgets_nothing() -> None:
    """Without claims lent, no event promises a claim: the state keeps what it did."""
    organizer = Organizer.register("org-1", at=T0)
    organizer.record_invoice(facts("in_x", "paid"), source="evt_1", at=T0)
    organizer.record_payment_succeeded(
        invoice_id="in_x", amount=1800, currency="eur", source="evt_2", at=T0
    )
    later = T0 + 90 * DAY
    organizer.record_invoice(facts("in_b", "draft"), source="evt_3", at=later)
    assert organizer.invoices == {"in_x": "paid", "in_b": "draft"}
    assert organizer.payments == {"in_x": "succeeded"}
    assert organizer.final_invoices == {}


def test_a_renewal_notice_past_its_draft_window_is_stale() -> None:
    organizer = Organizer.register("org-1", at=T0)

    def notice(period_end: datetime, source: str, at: datetime) -> bool:
        return organizer.note_renewal_upcoming(
            subscription_id="sub_1",
            period_end=period_end,
            expected_quantity=3,
            expected_amount=1500,
            currency="eur",
            source=source,
            at=at,
        )

    assert notice(T0 + 30 * DAY, "evt_1", T0 + 27 * DAY)
    assert notice(T0 + 60 * DAY, "evt_2", T0 + 57 * DAY)  # the first renewal is long past
    assert list(organizer.upcoming_renewals) == [(T0 + 60 * DAY).isoformat()]
    assert not notice(T0 + 30 * DAY, "evt_3", T0 + 57 * DAY)  # refused as stale
