"""Every renewal charges billable_quantity(period start), whatever the timing (issue 10):
the process manager against the Stripe double's renewals, on both stores."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from app.bootstrap import Container
from app.services.ops.at_risk import all_at_risk
from app.services.organizers.timeline import read_timeline
from domain.groups import GroupAction
from tests.support.clock import SteppingClock
from tests.support.renewals import HOUR, UNIT, RenewalStack, renewal_stack


@pytest.fixture
def stack(container: Container, clock: SteppingClock) -> Iterator[RenewalStack]:
    with renewal_stack(container, clock) as built:
        yield built


def past_the_renewal(stack: RenewalStack, *, billed: int, active: int) -> dict[str, Any]:
    """``active`` groups since before the renewal, Stripe still billing ``billed``: the
    clock goes straight past the period end (no sync ran), the draft is read."""
    stack.subscribe(quantity=billed)
    stack.groups(active, at=stack.period_end - timedelta(days=10))
    stack.advance(stack.period_end + timedelta(minutes=1))
    draft = stack.renewal_invoice()
    assert (draft["status"], draft["subtotal"]) == ("draft", billed * UNIT)
    return draft


def correct_through_one_500(stack: RenewalStack, **fault: object) -> dict[str, Any]:
    """A draft to correct; Stripe answers the first invoice item with a 500."""
    draft = past_the_renewal(stack, billed=5, active=7)
    stack.fault(method="POST", path="^/v1/invoiceitems", status=500, count=1, **fault)
    stack.deliver("invoice.created", draft)
    stack.work(passes=1)
    stack.clock.advance(timedelta(seconds=5))  # the backoff
    stack.work()
    return draft


class TestCorrectTheOpenDraft:
    def test_a_draft_cut_before_any_sync_is_corrected_before_finalisation(
        self, stack: RenewalStack
    ) -> None:
        draft = past_the_renewal(stack, billed=5, active=7)
        stack.deliver("invoice.created", draft)
        stack.work()
        corrected = stack.invoice(str(draft["id"]))
        assert (corrected["status"], corrected["subtotal"]) == ("draft", 7 * UNIT)
        assert stack.item_quantity() == 7  # and the next period bills 7 by itself
        stack.advance(stack.period_end + 2 * HOUR)
        finalised = stack.invoice(str(draft["id"]))
        assert (finalised["status"], finalised["subtotal"]) == ("paid", 7 * UNIT)
        assert stack.manual_invoices() == []
        assert stack.keys_with_several_parameter_sets() == []

    def test_the_sync_for_the_next_period_does_not_prorate_what_the_draft_bills(
        self, stack: RenewalStack
    ) -> None:
        draft = past_the_renewal(stack, billed=5, active=7)
        stack.deliver("invoice.created", draft)
        stack.work()
        updates = stack.posts("/v1/subscription_items/")
        assert [u["params"]["proration_behavior"] for u in updates] == ["none"]

    def test_fewer_groups_are_credited_on_the_draft(self, stack: RenewalStack) -> None:
        draft = past_the_renewal(stack, billed=5, active=3)
        stack.deliver("invoice.created", draft)
        stack.work()
        assert stack.invoice(str(draft["id"]))["subtotal"] == 3 * UNIT

    def test_a_draft_already_right_gets_nothing(self, stack: RenewalStack) -> None:
        draft = past_the_renewal(stack, billed=4, active=4)
        stack.deliver("invoice.created", draft)
        stack.work()
        assert stack.corrections_made() == []
        assert stack.requests("/v1/invoiceitems") == []

    def test_a_duplicate_webhook_and_a_replayed_reactor_correct_it_once(
        self, stack: RenewalStack
    ) -> None:
        draft = past_the_renewal(stack, billed=5, active=7)
        stack.deliver("invoice.created", draft)
        stack.work()
        stack.deliver("invoice.created", draft)  # a redelivery (a new event id)
        with stack.container.database.transaction() as cursor:  # the reactor forgets
            cursor.execute("DELETE FROM read_model_tracking WHERE projection = 'process_manager'")
        stack.work()
        creates = stack.posts("/v1/invoiceitems")
        assert len(creates) == 1
        assert stack.invoice(str(draft["id"]))["subtotal"] == 7 * UNIT

    def test_a_late_group_change_for_the_period_corrects_the_open_draft_again(
        self, stack: RenewalStack
    ) -> None:
        draft = past_the_renewal(stack, billed=5, active=7)
        stack.deliver("invoice.created", draft)
        stack.work()
        # Closed 10 minutes before the renewal, reported only now.
        stack.groups(1, at=stack.period_end - timedelta(minutes=10), action=GroupAction.DEACTIVATED)
        stack.work()
        assert stack.invoice(str(draft["id"]))["subtotal"] == 6 * UNIT

    def test_a_500_with_should_retry_false_is_read_back_then_retried_with_a_new_key(
        self, stack: RenewalStack
    ) -> None:
        draft = correct_through_one_500(stack, should_retry=False)
        creates = stack.posts("/v1/invoiceitems")
        assert [r["status"] for r in creates] == [500, 200]
        assert creates[1]["idempotency_key"] == f"{creates[0]['idempotency_key']}-r1"
        assert stack.invoice(str(draft["id"]))["subtotal"] == 7 * UNIT
        assert stack.keys_with_several_parameter_sets() == []

    def test_an_applied_500_is_found_by_its_metadata_and_not_made_twice(
        self, stack: RenewalStack
    ) -> None:
        draft = correct_through_one_500(stack, after_processing=True)
        creates = stack.posts("/v1/invoiceitems")
        assert len(creates) == 1
        assert stack.invoice(str(draft["id"]))["subtotal"] == 7 * UNIT
        (correction,) = stack.corrections_made()
        assert correction["status"] == "confirmed"


class TestMissedTheDraft:
    def test_more_groups_after_finalisation_are_invoiced_at_once(self, stack: RenewalStack) -> None:
        draft = past_the_renewal(stack, billed=5, active=7)
        stack.advance(stack.period_end + 2 * HOUR)  # the worker was down: finalised, paid
        stack.deliver("invoice.created", draft)  # delivered late, as a draft
        stack.work()
        (missed, late) = sorted(stack.corrections_made(), key=lambda c: c["requested_at"])
        assert (missed["status"], late["kind"], late["status"]) == (
            "missed",
            "one_off_invoice",
            "confirmed",
        )
        (one_off,) = stack.manual_invoices()
        assert (one_off["subtotal"], one_off["auto_advance"]) == (2 * UNIT, True)
        assert stack.invoice(str(draft["id"]))["subtotal"] == 5 * UNIT
        assert stack.keys_with_several_parameter_sets() == []

    def test_fewer_groups_after_payment_are_credited_to_the_balance(
        self, stack: RenewalStack
    ) -> None:
        draft = past_the_renewal(stack, billed=5, active=3)
        stack.advance(stack.period_end + 2 * HOUR)
        stack.deliver("invoice.paid", stack.invoice(str(draft["id"])))
        stack.work()
        (note,) = stack.credit_notes(str(draft["id"]))
        assert (note["total"], note["post_payment_amount"]) == (2 * UNIT, 2 * UNIT)
        (request,) = stack.posts("/v1/credit_notes")
        assert request["params"]["credit_amount"] == str(2 * UNIT)
        assert request["params"]["lines"] == [
            {
                "type": "invoice_line_item",
                "invoice_line_item": note["lines"]["data"][0]["invoice_line_item"],
                "quantity": "2",
            }
        ]
        customer = stack.stripe.v1.customers.retrieve(stack.customer)
        assert customer["balance"] == -2 * UNIT

    def test_a_taxed_paid_invoice_credits_its_total_with_tax_to_the_balance(
        self, stack: RenewalStack
    ) -> None:
        stack.subscribe(quantity=5, automatic_tax=True)
        stack.groups(3, at=stack.period_end - timedelta(days=10))
        stack.advance(stack.period_end + 2 * HOUR)
        paid = stack.renewal_invoice()
        assert paid["status"] == "paid"
        assert sum(t["amount"] for t in paid["total_taxes"]) == 5 * UNIT * 19 // 100
        stack.deliver("invoice.paid", paid)
        stack.work()
        (note,) = stack.credit_notes(str(paid["id"]))
        assert note["total"] == 2 * UNIT * 119 // 100  # 19 % tax on the two groups
        (request,) = stack.posts("/v1/credit_notes")
        assert request["params"]["credit_amount"] == str(note["total"])
        assert [r["method"] for r in stack.requests("/v1/credit_notes/preview")] == ["GET"]
        customer = stack.stripe.v1.customers.retrieve(stack.customer)
        assert customer["balance"] == -note["total"]

    def test_fewer_groups_on_an_unpaid_invoice_reduce_what_is_due(
        self, stack: RenewalStack
    ) -> None:
        draft = past_the_renewal(stack, billed=5, active=3)
        stack.admin.post(
            f"/_double/customers/{stack.customer}/fail_payments", json={"fail": True}
        ).raise_for_status()
        stack.advance(stack.period_end + 2 * HOUR)
        finalised = stack.invoice(str(draft["id"]))
        assert finalised["status"] == "open"
        stack.deliver("invoice.finalized", finalised)
        stack.work()
        assert stack.invoice(str(draft["id"]))["amount_due"] == 3 * UNIT
        assert stack.keys_with_several_parameter_sets() == []


def timeline(stack: RenewalStack) -> list[tuple[str, str]]:
    entries = read_timeline(stack.container.database, "org-1", before=None, limit=100).entries
    return [(e.title, e.description) for e in entries]


class TestExplained:
    def test_a_corrected_draft_is_explained_in_plain_words(self, stack: RenewalStack) -> None:
        draft = past_the_renewal(stack, billed=5, active=7)
        stack.deliver("invoice.created", draft)
        stack.work()
        assert (
            "Renewal invoice corrected",
            "Billed 5 groups, 7 were active at 1 Feb 2026 00:00 UTC; "
            "2 \u00d7 10.00 EUR added before it was finalised.",
        ) in timeline(stack)

    def test_a_late_difference_names_the_invoice_that_charges_it(self, stack: RenewalStack) -> None:
        draft = past_the_renewal(stack, billed=5, active=7)
        stack.advance(stack.period_end + 2 * HOUR)
        stack.deliver("invoice.created", draft)
        stack.work()
        (one_off,) = stack.manual_invoices()
        assert (
            "Renewal difference invoiced",
            "Billed 5 groups, 7 were active at 1 Feb 2026 00:00 UTC; the renewal invoice was "
            f"already finalised, so 2 \u00d7 10.00 EUR were charged at once on invoice "
            f"{one_off['id']}.",
        ) in timeline(stack)

    def test_a_credit_names_the_credit_note(self, stack: RenewalStack) -> None:
        draft = past_the_renewal(stack, billed=5, active=4)
        stack.advance(stack.period_end + 2 * HOUR)
        stack.deliver("invoice.paid", stack.invoice(str(draft["id"])))
        stack.work()
        (note,) = stack.credit_notes(str(draft["id"]))
        assert (
            "Renewal difference credited",
            f"Billed 5 groups, 4 were active at 1 Feb 2026 00:00 UTC; the renewal invoice "
            f"{draft['id']} was already finalised, so 1 \u00d7 10.00 EUR were credited at once "
            f"(credit note {note['id']}).",
        ) in timeline(stack)

    def test_every_correction_is_in_the_audit_ledger_with_its_cause(
        self, stack: RenewalStack
    ) -> None:
        draft = past_the_renewal(stack, billed=5, active=7)
        stack.advance(stack.period_end + 2 * HOUR)
        stack.deliver("invoice.created", draft)
        stack.work()
        with stack.container.database.transaction() as cursor:
            rows = cursor.execute(
                "SELECT kind, invoice_id, quantity, amount FROM rm_audit_entries"
                " WHERE kind LIKE 'renewal_%' AND kind <> 'renewal_checked'"
                " ORDER BY position, seq"
            ).fetchall()
        kinds = [str(r["kind"]) for r in rows]
        assert kinds == [
            "renewal_correction_requested",
            "renewal_draft_missed",
            "renewal_difference_requested",
            "renewal_correction_step",
            "renewal_difference_invoiced",
        ]
        assert {int(r["amount"]) for r in rows if r["amount"] is not None} == {2 * UNIT}


def at_risk(stack: RenewalStack) -> list[tuple[str, str | None]]:
    entries = all_at_risk(stack.container.database, stack.clock.now, HOUR)
    return [(e["kind"], e["status"]) for e in entries]


class TestAtRisk:
    def test_a_renewal_invoice_is_at_risk_until_its_correction_is_confirmed(
        self, stack: RenewalStack
    ) -> None:
        draft = past_the_renewal(stack, billed=5, active=7)
        stack.deliver("invoice.created", draft)
        stack.react()
        assert ("draft_item", "pending") in at_risk(stack)
        stack.work()
        assert at_risk(stack) == []

    def test_an_invoice_left_uncorrected_is_at_risk_with_its_reason(
        self, stack: RenewalStack
    ) -> None:
        draft = past_the_renewal(stack, billed=5, active=7)
        for line in draft["lines"]["data"]:  # a price the invoice does not state
            line["amount"] = 4999
            line["pricing"]["unit_amount_decimal"] = "999.8"
        stack.deliver("invoice.created", draft)
        stack.work()
        (entry,) = all_at_risk(stack.container.database, stack.clock.now, HOUR)
        assert (entry["kind"], entry["subject"]) == ("uncorrected", f"uncorrected:{draft['id']}")
        assert "per-group price" in entry["reason"]
