"""The gateway's calls that correct a renewal invoice (issue 10), through the official SDK.

- an invoice item on the renewal draft (``POST /v1/invoiceitems`` with ``invoice``),
  negative for fewer groups: Stripe's documented way to change a subscription draft
  during its draft window;
- a one-off invoice for more groups once the draft is finalised: a pending invoice item
  for the customer and subscription, then ``POST /v1/invoices`` with
  ``pending_invoice_items_behavior=include``, ``auto_advance=true``,
  ``collection_method=charge_automatically`` (Stripe finalises and charges it);
- a credit note for fewer groups (``POST /v1/credit_notes``) crediting the quantity on the
  renewal invoice's per-group line: it reduces the amount due of an open invoice, and of a
  paid one it credits the customer balance (``credit_amount``), applied to the next invoice.

Every object carries ``metadata[ledger_correction_id]``: after an unknown outcome (a 5xx)
the sender finds what an earlier attempt created by listing and matching it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import stripe

from adapters.stripe.payload import Node
from adapters.stripe.shapes import PINNED_API_VERSION, shape_for_version

CORRECTION_METADATA = "ledger_correction_id"
LIST_PAGES = 10  # 1,000 objects: a customer's items or invoices of one period fit in one


@dataclass(frozen=True)
class StripeRef:
    """An object Stripe holds, and the request that made (or found) it."""

    object_id: str
    request_id: str


@dataclass(frozen=True)
class InvoiceState:
    """What a correction needs to know about an invoice right now."""

    status: str
    amount_remaining: int
    tax: int

    @classmethod
    def read(cls, invoice: Mapping[str, Any]) -> InvoiceState:
        """From an invoice retrieved in the pinned version (``TranslationError`` names a
        malformed field, e.g. ``invoice.status``)."""
        node = Node.root(invoice, "invoice")
        return cls(
            status=node.text("status"),
            amount_remaining=node.optional_integer("amount_remaining") or 0,
            # Where the tax total lives depends on the API version: the shapes know.
            tax=shape_for_version(PINNED_API_VERSION).invoice_tax(node),
        )


@dataclass(frozen=True)
class Charge:
    """One invoice item: ``amount`` (signed, minor units) for a service period."""

    customer_id: str
    amount: int
    currency: str
    description: str
    period_start: datetime
    period_end: datetime
    metadata: Mapping[str, str]

    def params(self) -> dict[str, Any]:
        return {
            "customer": self.customer_id,
            "amount": self.amount,
            "currency": self.currency,
            "description": self.description,
            "period": {
                "start": int(self.period_start.timestamp()),
                "end": int(self.period_end.timestamp()),
            },
            "metadata": dict(self.metadata),
        }


def request_id(found: Any) -> str:
    """The ``Request-Id`` of the response ``found`` came in ("unknown" off HTTP)."""
    response = getattr(found, "last_response", None)
    found_id = response.request_id if response is not None else None
    return found_id or "unknown"


def _ref(found: Any) -> StripeRef:
    return StripeRef(Node(found.to_dict(), "response").text("id"), request_id(found))


class CorrectionCalls:
    """Mixed into ``StripeGateway``: ``call`` paces and classifies every SDK call."""

    client: stripe.StripeClient
    call: Callable[..., Any]

    def add_draft_item(self, invoice_id: str, charge: Charge, *, idempotency_key: str) -> StripeRef:
        """An invoice item on a draft invoice (refused once the invoice is finalised)."""
        created = self.call(
            self.client.v1.invoice_items.create,
            params={**charge.params(), "invoice": invoice_id},
            options={"idempotency_key": idempotency_key},
        )
        return _ref(created)

    def add_pending_item(
        self, subscription_id: str, charge: Charge, *, idempotency_key: str
    ) -> StripeRef:
        """A pending invoice item, to be invoiced with the subscription's next invoice."""
        created = self.call(
            self.client.v1.invoice_items.create,
            params={**charge.params(), "subscription": subscription_id},
            options={"idempotency_key": idempotency_key},
        )
        return _ref(created)

    def invoice_pending_items(
        self,
        *,
        customer_id: str,
        subscription_id: str,
        description: str,
        metadata: Mapping[str, str],
        automatic_tax: bool,
        idempotency_key: str,
    ) -> StripeRef:
        """A one-off invoice of the subscription's pending items, charged automatically."""
        params: dict[str, Any] = {
            "customer": customer_id,
            "subscription": subscription_id,
            "pending_invoice_items_behavior": "include",
            "auto_advance": True,
            "collection_method": "charge_automatically",
            "description": description,
            "metadata": dict(metadata),
        }
        if automatic_tax:
            params["automatic_tax"] = {"enabled": True}
        created = self.call(
            self.client.v1.invoices.create,
            params=params,
            options={"idempotency_key": idempotency_key},
        )
        return _ref(created)

    def invoice_state(self, invoice_id: str) -> InvoiceState:
        found = self.call(self.client.v1.invoices.retrieve, invoice_id)
        return InvoiceState.read(found.to_dict())

    def credit_note_total(self, invoice_id: str, line_id: str, quantity: int) -> int:
        """What crediting ``quantity`` of a line would total, tax included (a preview)."""
        preview = self.call(
            self.client.v1.credit_notes.preview,
            params={"invoice": invoice_id, "lines": [_credit_line(line_id, quantity)]},
        )
        return int(preview["total"])

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
    ) -> StripeRef:
        """A credit note for ``quantity`` units of an invoice line; ``credit_amount`` (a
        paid invoice) sends the credit to the customer balance."""
        params: dict[str, Any] = {
            "invoice": invoice_id,
            "lines": [_credit_line(line_id, quantity)],
            "reason": "order_change",
            "memo": memo,
            "metadata": dict(metadata),
        }
        if credit_amount is not None:
            params["credit_amount"] = credit_amount
        created = self.call(
            self.client.v1.credit_notes.create,
            params=params,
            options={"idempotency_key": idempotency_key},
        )
        return _ref(created)

    # -- finding what an attempt with an unknown outcome made --------------------------

    def find_invoice_item(
        self, correction_id: str, *, invoice_id: str | None = None, customer_id: str | None = None
    ) -> StripeRef | None:
        params: dict[str, Any] = {"invoice": invoice_id} if invoice_id else {}
        if customer_id:
            params["customer"] = customer_id
        return self._find(self.client.v1.invoice_items.list, params, correction_id)

    def find_invoice(self, correction_id: str, *, customer_id: str) -> StripeRef | None:
        return self._find(self.client.v1.invoices.list, {"customer": customer_id}, correction_id)

    def find_credit_note(self, correction_id: str, *, invoice_id: str) -> StripeRef | None:
        return self._find(self.client.v1.credit_notes.list, {"invoice": invoice_id}, correction_id)

    def _find(
        self, listing: Callable[..., Any], params: dict[str, Any], correction_id: str
    ) -> StripeRef | None:
        for found in self._each(listing, params):
            if (found.get("metadata") or {}).get(CORRECTION_METADATA) == correction_id:
                return StripeRef(str(found["id"]), "found")
        return None

    def _each(self, listing: Callable[..., Any], params: dict[str, Any]) -> Iterator[Any]:
        page_params = {**params, "limit": 100}
        for _ in range(LIST_PAGES):
            page = self.call(listing, params=page_params)
            yield from (entry.to_dict() for entry in page.data)
            if not page.has_more or not page.data:
                return
            page_params = {**page_params, "starting_after": page.data[-1]["id"]}


def _credit_line(line_id: str, quantity: int) -> dict[str, Any]:
    return {"type": "invoice_line_item", "invoice_line_item": line_id, "quantity": quantity}
