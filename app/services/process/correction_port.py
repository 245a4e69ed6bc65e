"""What the correction sender needs from Stripe (the gateway implements it), and how a
draft Stripe finalised first shows up (app/services/process/corrections.py sends)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from adapters.stripe.corrections import Charge, InvoiceState, StripeRef


class CorrectionPort(Protocol):
    """What correcting renewal invoices needs from Stripe (``StripeGateway`` has it)."""

    def add_draft_item(
        self, invoice_id: str, charge: Charge, *, idempotency_key: str
    ) -> StripeRef: ...

    def add_pending_item(
        self, subscription_id: str, charge: Charge, *, idempotency_key: str
    ) -> StripeRef: ...

    def invoice_pending_items(
        self,
        *,
        customer_id: str,
        subscription_id: str,
        description: str,
        metadata: Mapping[str, str],
        automatic_tax: bool,
        idempotency_key: str,
    ) -> StripeRef: ...

    def invoice_state(self, invoice_id: str) -> InvoiceState: ...

    def credit_note_total(self, invoice_id: str, line_id: str, quantity: int) -> int: ...

    def credit_invoice_line(
        self,
        invoice_id: str,
        *,
        line_id: str,
        quantity: int,
        credit_amount: int | None,
        memo: str,
        metadata: Mapping[str, str],
        idempotency_key: str,
    ) -> StripeRef: ...

    def find_invoice_item(
        self, correction_id: str, *, invoice_id: str | None = None, customer_id: str | None = None
    ) -> StripeRef | None: ...

    def find_invoice(self, correction_id: str, *, customer_id: str) -> StripeRef | None: ...

    def find_credit_note(self, correction_id: str, *, invoice_id: str) -> StripeRef | None: ...


class MissedDraftError(Exception):
    """Stripe refused an item because the invoice is no longer a draft."""
