"""The organizer's commands on renewal invoice corrections (a mixin of ``Organizer``):
each delegates to ``domain/invoice_corrections.py``."""

from __future__ import annotations

from datetime import datetime

from domain import invoice_corrections as corrections
from domain.organizer_state import OrganizerState


class CorrectionCommands(OrganizerState):
    def correct_renewal_invoices(
        self, *, minimum: int, at: datetime, cause: str, invoice_id: str | None = None
    ) -> list[str]:
        """Correct renewal invoices to the groups active at their period start: an item
        on an open draft, else a one-off invoice or a credit note. Decided once per
        situation: deciding again records nothing. Returns the new correction ids."""
        return corrections.correct_renewal_invoices(
            self, minimum=minimum, at=at, cause=cause, invoice_id=invoice_id
        )

    def confirm_correction_step(
        self,
        correction_id: str,
        *,
        step: str,
        stripe_object_id: str,
        stripe_request_id: str,
        at: datetime,
    ) -> bool:
        return corrections.confirm_step(
            self,
            correction_id,
            step=step,
            stripe_object_id=stripe_object_id,
            stripe_request_id=stripe_request_id,
            at=at,
        )

    def confirm_correction(
        self, correction_id: str, *, stripe_object_id: str, stripe_request_id: str, at: datetime
    ) -> bool:
        return corrections.confirm(
            self,
            correction_id,
            stripe_object_id=stripe_object_id,
            stripe_request_id=stripe_request_id,
            at=at,
        )

    def fail_correction(
        self,
        correction_id: str,
        *,
        error_code: str,
        message: str,
        retryable: bool,
        outcome_unknown: bool,
        next_attempt_at: datetime | None,
        step: str,
        at: datetime,
    ) -> bool:
        return corrections.fail(
            self,
            correction_id,
            error_code=error_code,
            message=message,
            retryable=retryable,
            outcome_unknown=outcome_unknown,
            next_attempt_at=next_attempt_at,
            step=step,
            at=at,
        )

    def miss_draft_correction(
        self, correction_id: str, *, reason: str, minimum: int, at: datetime
    ) -> str:
        """Stripe finalised the draft first: the late difference is decided at once."""
        return corrections.miss(self, correction_id, reason=reason, minimum=minimum, at=at)
