"""The customer balance: credits (negative) and debits (positive) applied to invoices.

A negative `customer.balance` is money the customer has to spend: Stripe applies it to
the next invoice when that invoice is finalized, and shows it as the invoice's
`starting_balance` / `ending_balance` (docs.stripe.com/invoicing/customer/balance).
Every change is a `customer_balance_transaction`.
"""

from __future__ import annotations

from typing import Any

from stripe_double.errors import invalid
from stripe_double.events import emit
from stripe_double.state import DoubleState, new_id, snapshot

TRANSACTION_TYPES = (
    "adjustment",
    "applied_to_invoice",
    "credit_note",
    "initial",
    "invoice_overpaid",
    "invoice_too_large",
    "invoice_too_small",
    "unspent_receiver_credit",
    "unapplied_from_invoice",
)


def record(
    state: DoubleState,
    customer: dict[str, Any],
    amount: int,
    *,
    kind: str,
    currency: str,
    at: int,
    invoice: str | None = None,
    credit_note: str | None = None,
    description: str | None = None,
    metadata: dict[str, str] | None = None,
    announce: bool = True,
) -> dict[str, Any]:
    """Change the customer's balance by `amount` and store the transaction saying so
    (`announce`: emit `customer.updated`)."""
    if customer["currency"] is not None and customer["currency"] != currency:
        raise invalid(
            f"The currency {currency} does not match the customer's currency "
            f"{customer['currency']}.",
            param="currency",
        )
    before = snapshot(customer)
    customer["currency"] = currency
    ending = int(customer["balance"]) + amount
    customer["balance"] = ending
    txn = state.put(
        {
            "id": new_id("cbtxn"),
            "object": "customer_balance_transaction",
            "amount": amount,
            "checkout_session": None,
            "created": at,
            "credit_note": credit_note,
            "currency": currency,
            "customer": customer["id"],
            "customer_account": None,
            "description": description,
            "ending_balance": ending,
            "invoice": invoice,
            "livemode": False,
            "metadata": metadata or {},
            "type": kind,
        }
    )
    if announce:
        emit(state, "customer.updated", customer, at=at, previous=before)
    return txn


def apply_to_invoice(state: DoubleState, inv: dict[str, Any], *, at: int) -> None:
    """At finalization: a credit pays (part of) the invoice, a debit is added to it, and a
    negative total becomes credit. `starting_balance - ending_balance` is what moved."""
    customer = state.get("customer", inv["customer"])
    start = int(customer["balance"])
    total = int(inv["total"])
    same_currency = customer["currency"] in (None, inv["currency"])
    if not same_currency:
        start = 0
    if total < 0:
        moved = -total  # the invoice owes the customer: it all goes to the balance
    elif start < 0:
        moved = max(start, -total)
    else:
        moved = start
    inv.update(starting_balance=start, ending_balance=start - moved)
    if same_currency and moved:
        record(
            state,
            customer,
            -moved,
            kind="applied_to_invoice",
            currency=inv["currency"],
            at=at,
            invoice=inv["id"],
        )
