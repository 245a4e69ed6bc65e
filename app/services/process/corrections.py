"""Sending renewal invoice corrections to Stripe, and recording what Stripe said (issue 10).

The decision is already recorded (``DraftCorrectionRequested`` / ``LateDifferenceRequested``)
with a deterministic key base; each call of a correction has its own key
(``<base>-<step>``), fresh after every attempt whose outcome Stripe left unknown (a 5xx),
and before such a retry the sender looks for what the earlier attempt may have made (by
``metadata[ledger_correction_id]``). So a correction reaches Stripe once, whatever
crashes, duplicates or faults happen, and no key is ever sent with two parameter sets.

A draft correction Stripe refuses because the invoice is no longer a draft is *missed*:
the organizer then decides the late difference at once.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any
from uuid import UUID

from adapters.observability.metrics import SYNCS
from adapters.persistence.database import PostgresDatabase, SQLiteDatabase
from adapters.stripe.corrections import Charge, StripeRef
from adapters.stripe.gateway import StripeCallError
from app.services.ledger import LedgerApplication
from app.services.process.correction_port import CorrectionPort, MissedDraftError
from app.services.process.policy import RenewalPolicy
from app.services.process.sending import OrganizerQueue
from domain.corrections import CorrectionKind
from domain.invoice_corrections import draft_window_closes, is_open
from domain.keys import step_key
from domain.organizer import Organizer
from domain.renewal import gives_up
from domain.statuses import SyncStatus, after_failure
from projections.corrections import due_corrections

log = logging.getLogger("ledger.corrections")
CLOSED = ("void", "uncollectible")


def groups(n: int) -> str:
    return f"{n} group{'s' if n != 1 else ''}"


def explanation(state: dict[str, Any]) -> str:
    """What the customer reads on the item or credit note (plain words, exact numbers)."""
    instant = f"{state['period_start']:%d %b %Y %H:%M} UTC"
    return (
        f"Renewal correction: {groups(state['target_quantity'])} active at {instant}, "
        f"{state['billed_quantity']} billed"
    )


class CorrectionSender(OrganizerQueue):
    """Sends due corrections: concurrently across organizers, in order within one."""

    log_key = "correction_id"

    def __init__(
        self,
        database: SQLiteDatabase | PostgresDatabase,
        ledger: LedgerApplication,
        port: CorrectionPort,
        policy: RenewalPolicy,
        *,
        concurrency: int = 4,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        super().__init__(
            ledger, policy, concurrency=concurrency, jitter=jitter, thread_name="stripe-fix"
        )
        self.database = database
        self.port = port

    def due(self, now: datetime, limit: int) -> list[tuple[str, str]]:
        return due_corrections(self.database, now, limit)

    def send(self, organizer_id: UUID, work_id: str) -> bool:
        organizer: Organizer = self.ledger.repository.get(organizer_id)
        state = organizer.corrections.get(work_id)
        now = self.ledger.clock()
        if state is None or not is_open(state):
            return False  # the read model lags the ledger
        if state["next_attempt_at"] is not None and now < state["next_attempt_at"]:
            return False
        step = self.current_step(state)
        if self.out_of_time(state, now):
            error = StripeCallError(
                "gave_up",
                f"not confirmed within {self.policy.retry_horizon}",
                retryable=False,
                status=None,
            )
            self._fail(organizer_id, work_id, error, step)
            return True
        try:
            self._attempt(organizer_id, work_id, state, organizer.platform_organizer_id)
        except MissedDraftError as missed:
            self._miss(organizer_id, work_id, str(missed))
        except StripeCallError as error:
            log.warning("correction %s failed (%s, retryable=%s)", work_id, error, error.retryable)
            self._fail(organizer_id, work_id, error, step)
        return True

    def out_of_time(self, state: dict[str, Any], now: datetime) -> bool:
        draft = state["kind"] == CorrectionKind.DRAFT_ITEM
        return gives_up(
            requested_at=state["requested_at"],
            window_closes=draft_window_closes(state) if draft else state["requested_at"],
            now=now,
            horizon=self.policy.retry_horizon,
        )

    @staticmethod
    def current_step(state: dict[str, Any]) -> str:
        kind = CorrectionKind(state["kind"])
        if kind is CorrectionKind.ONE_OFF_INVOICE:
            return "invoice" if "item" in state["steps"] else "item"
        return "credit" if kind is CorrectionKind.CREDIT_NOTE else "item"

    def _attempt(
        self, organizer_id: UUID, correction_id: str, state: dict[str, Any], platform_id: str
    ) -> None:
        metadata = {"ledger_correction_id": correction_id, "organizer_id": platform_id}
        kind = CorrectionKind(state["kind"])
        if kind is CorrectionKind.DRAFT_ITEM:
            ref = self._draft_item(correction_id, state, metadata)
        elif kind is CorrectionKind.ONE_OFF_INVOICE:
            ref = self._one_off(organizer_id, correction_id, state, metadata)
        else:
            ref = self._credit_note(correction_id, state, metadata)
        self.ledger.update_by_id(
            organizer_id,
            lambda org, at: org.confirm_correction(
                correction_id,
                stripe_object_id=ref.object_id,
                stripe_request_id=ref.request_id,
                at=at,
            ),
        )
        SYNCS.labels(outcome=SyncStatus.CONFIRMED).inc()

    def _charge(self, state: dict[str, Any], metadata: Mapping[str, str]) -> Charge:
        return Charge(
            customer_id=state["customer_id"],
            amount=state["amount"],
            currency=state["currency"],
            description=explanation(state),
            period_start=state["period_start"],
            period_end=state["period_end"],
            metadata=metadata,
        )

    def _draft_item(
        self, correction_id: str, state: dict[str, Any], metadata: Mapping[str, str]
    ) -> StripeRef:
        invoice_id = state["invoice_id"]
        if state["verify_first"]:
            found = self.port.find_invoice_item(correction_id, invoice_id=invoice_id)
            if found is not None:
                return found
        try:
            return self.port.add_draft_item(
                invoice_id, self._charge(state, metadata), idempotency_key=step_key(state, "item")
            )
        except StripeCallError as error:
            if error.retryable or error.status is None or error.status >= 500:
                raise
            # Refused for good: if the draft is gone, that is why (Stripe finalised it).
            status = self.port.invoice_state(invoice_id).status
            if status != "draft":
                raise MissedDraftError(f"invoice is {status}: {error.code}") from error
            raise

    def _one_off(
        self,
        organizer_id: UUID,
        correction_id: str,
        state: dict[str, Any],
        metadata: Mapping[str, str],
    ) -> StripeRef:
        customer = state["customer_id"]
        verify = state["verify_first"]
        if "item" not in state["steps"]:
            item = (
                self.port.find_invoice_item(correction_id, customer_id=customer) if verify else None
            )
            if item is None:
                item = self.port.add_pending_item(
                    state["subscription_id"],
                    self._charge(state, metadata),
                    idempotency_key=step_key(state, "item"),
                )
            self.ledger.update_by_id(
                organizer_id,
                lambda org, at: org.confirm_correction_step(
                    correction_id,
                    step="item",
                    stripe_object_id=item.object_id,
                    stripe_request_id=item.request_id,
                    at=at,
                ),
            )
            verify = False
        elif verify:
            found = self.port.find_invoice(correction_id, customer_id=customer)
            if found is not None:
                return found
        return self.port.invoice_pending_items(
            customer_id=customer,
            subscription_id=state["subscription_id"],
            description=f"{explanation(state)}: the renewal invoice was already finalised",
            metadata=metadata,
            automatic_tax=self.policy.automatic_tax,
            idempotency_key=step_key(state, "invoice"),
        )

    def _credit_note(
        self, correction_id: str, state: dict[str, Any], metadata: Mapping[str, str]
    ) -> StripeRef:
        invoice_id, line_id = state["invoice_id"], state["line_id"]
        if state["verify_first"]:
            found = self.port.find_credit_note(correction_id, invoice_id=invoice_id)
            if found is not None:
                return found
        invoice = self.port.invoice_state(invoice_id)
        if invoice.status in CLOSED:
            raise StripeCallError(
                "invoice_closed",
                f"invoice {invoice_id} is {invoice.status}",
                retryable=False,
                status=None,
            )
        quantity = -state["quantity"]
        credit_amount = None
        variant = "open"
        if invoice.status == "paid" or invoice.amount_remaining == 0:
            # After payment the whole credit must go somewhere: the customer's balance.
            variant = "paid"
            credit_amount = (
                quantity * state["unit_amount"]
                if invoice.tax == 0
                else self.port.credit_note_total(invoice_id, line_id, quantity)
            )
        return self.port.credit_invoice_line(
            invoice_id,
            line_id=line_id,
            quantity=quantity,
            credit_amount=credit_amount,
            memo=f"{explanation(state)}: the renewal invoice was already finalised",
            metadata=metadata,
            # Other parameters, other key: an open and a paid invoice differ in credit_amount.
            idempotency_key=step_key(state, f"credit-{variant}"),
        )

    def _miss(self, organizer_id: UUID, correction_id: str, reason: str) -> None:
        minimum = self.policy.minimum_quantity
        late = self.ledger.update_by_id(
            organizer_id,
            lambda org, at: org.miss_draft_correction(
                correction_id, reason=reason, minimum=minimum, at=at
            ),
        )
        log.info("draft correction %s missed (%s); late difference %s", correction_id, reason, late)

    def _fail(
        self, organizer_id: UUID, correction_id: str, error: StripeCallError, step: str
    ) -> None:
        def record(org: Organizer, at: datetime) -> bool:
            attempt = org.corrections[correction_id]["attempts"] + 1
            return org.fail_correction(
                correction_id,
                error_code=error.code,
                message=error.message,
                retryable=error.retryable,
                outcome_unknown=error.outcome_unknown,
                next_attempt_at=self.next_attempt_at(attempt, at),
                step=step,
                at=at,
            )

        if self.ledger.update_by_id(organizer_id, record):
            SYNCS.labels(outcome=after_failure(error.retryable)).inc()
