"""What a Checkout Session must ask for when Stripe computes the tax (``STRIPE_AUTOMATIC_TAX``).

Stripe Tax needs the customer's location: a customer the ledger created has no address,
and Stripe refuses such a session (``customer_tax_location_invalid``) unless Checkout may
write the address it collects back to the customer (``customer_update[address]=auto``).
Tax ids are collected too (business customers are taxed differently), which for an
existing customer needs ``customer_update[name]=auto``; ``customer_update`` itself is
only allowed with a ``customer``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def with_tax_collection(params: Mapping[str, Any]) -> dict[str, Any]:
    """``params`` with the billing address and tax ids collected when automatic tax is
    on (unchanged otherwise: a session without tax asks for nothing more)."""
    session = dict(params)
    automatic_tax = session.get("automatic_tax")
    if not (isinstance(automatic_tax, Mapping) and automatic_tax.get("enabled") is True):
        return session
    session["billing_address_collection"] = "required"
    session["tax_id_collection"] = {"enabled": True}
    if session.get("customer"):
        session["customer_update"] = {"address": "auto", "name": "auto"}
    return session
