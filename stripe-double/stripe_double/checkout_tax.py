"""Stripe Tax at Checkout: what a session must ask for, and what paying it collects.

At creation, as Stripe does: ``customer_update`` needs a ``customer``; tax id collection
for an existing customer needs ``customer_update[name]=auto``; and automatic tax for a
customer without an address needs ``customer_update[address]`` (or ``[shipping]``)
``=auto``, else ``customer_tax_location_invalid``. On the page, a session that collects
the billing address refuses to pay without one; the address (and the name, with
``customer_update[name]=auto``) is written to the customer, and a tax id entered is
recorded on the customer (``tax_id`` objects) and in ``customer_details.tax_ids``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from stripe_double.errors import StripeError, invalid
from stripe_double.events import emit
from stripe_double.params import Params
from stripe_double.state import DoubleState, new_id, snapshot

_AUTO_OR_NEVER = ("auto", "never")
# Stripe's message, word for word (with its backticks and quotes).
TAX_LOCATION_MESSAGE = (
    "Automatic tax calculation in Checkout requires a valid address on the Customer. Add a "
    "valid address to the Customer or set either `customer_update[address]` to 'auto' or "
    "`customer_update[shipping]` to 'auto' to save the address entered in Checkout to the "
    "Customer."
)
TAX_ID_NAME_MESSAGE = (
    "Tax ID collection requires updating business name on the customer. To enable tax ID "
    "collection for an existing customer, please set `customer_update[name]` to `auto`."
)
ADDRESS_FIELDS = (
    ("line1", "billingLine1"),
    ("city", "billingCity"),
    ("postal_code", "billingPostalCode"),
    ("country", "billingCountry"),
)


def fields_html(session: dict[str, Any]) -> str:
    """The page's billing address and tax id inputs, for a session that collects them."""
    html = ""
    if (
        session.get("billing_address_collection") == "required"
        or (session.get("customer_update") or {}).get("address") == "auto"
    ):
        inputs = "".join(
            f"<p><label for='{field}'>{key.replace('_', ' ').capitalize()}</label> "
            f"<input id='{field}' name='{field}'></p>"
            for key, field in ADDRESS_FIELDS
        )
        html += f"<fieldset><legend>Billing address</legend>{inputs}</fieldset>"
    if (session.get("tax_id_collection") or {}).get("enabled"):
        html += (
            "<fieldset><legend>Business (optional)</legend>"
            "<p><label for='businessName'>Business name</label> "
            "<input id='businessName' name='businessName'></p>"
            "<p><label for='taxIdType'>Tax id type</label> "
            "<input id='taxIdType' name='taxIdType' placeholder='eu_vat'> "
            "<label for='taxIdValue'>Tax id</label> "
            "<input id='taxIdValue' name='taxIdValue'></p></fieldset>"
        )
    return html


def session_tax_fields(
    state: DoubleState, p: Params, customer_id: str | None, *, tax: bool
) -> dict[str, Any]:
    """The session's collection fields, refusing what Stripe refuses."""
    update = p.get_obj("customer_update")
    update.reject_unknown("address name shipping")
    choices = {key: update.get_enum(key, _AUTO_OR_NEVER) for key in ("address", "name", "shipping")}
    if any(choices.values()) and not customer_id:
        raise invalid(
            "`customer_update` can only be used with `customer`.", param="customer_update"
        )
    tax_ids = bool(p.get_obj("tax_id_collection").get_bool("enabled", default=False))
    if tax_ids and customer_id and choices["name"] != "auto":
        raise invalid(TAX_ID_NAME_MESSAGE, param="tax_id_collection[enabled]")
    if tax and customer_id and "auto" not in (choices["address"], choices["shipping"]):
        customer = state.get("customer", customer_id, param="customer")
        if not (customer.get("address") or customer.get("shipping")):
            raise StripeError(TAX_LOCATION_MESSAGE, code="customer_tax_location_invalid")
    return {
        "billing_address_collection": p.get_enum(
            "billing_address_collection", ("auto", "required"), default="auto"
        ),
        "customer_update": {key: value for key, value in choices.items() if value}
        if customer_id
        else None,
        "tax_id_collection": {"enabled": tax_ids, "required": "never"},
    }


@dataclass(frozen=True)
class Collected:
    """What the Checkout page collected beside the card."""

    address: dict[str, Any] | None
    name: str | None
    tax_id: dict[str, str] | None


def collected(session: dict[str, Any], form: Mapping[str, str]) -> Collected:
    """The page's form read (refusing a required address left out)."""
    return Collected(
        address=collected_address(session, form),
        name=collected_name(session, form),
        tax_id=collected_tax_id(session, form),
    )


def collected_address(session: dict[str, Any], form: Mapping[str, str]) -> dict[str, Any] | None:
    """The billing address entered on the page (None: none asked for nor entered);
    a session that requires one refuses to pay without it."""
    entered = {key: form.get(field, "").strip() or None for key, field in ADDRESS_FIELDS}
    if not any(entered.values()):
        if session.get("billing_address_collection") == "required":
            raise StripeError("Enter your billing address.", code="billing_address_incomplete")
        return None
    if entered["country"] is None:
        raise StripeError("Enter the country of your billing address.", code="incomplete_country")
    return {**entered, "line2": None, "state": None}


def collected_tax_id(session: dict[str, Any], form: Mapping[str, str]) -> dict[str, str] | None:
    """The tax id entered on the page, when the session collects them."""
    if not (session.get("tax_id_collection") or {}).get("enabled"):
        return None
    value = form.get("taxIdValue", "").strip()
    if not value:
        return None
    return {"type": form.get("taxIdType", "").strip() or "eu_vat", "value": value}


def collected_name(session: dict[str, Any], form: Mapping[str, str]) -> str | None:
    """The business name entered with a tax id (None: none, or not collected)."""
    if not (session.get("tax_id_collection") or {}).get("enabled"):
        return None
    return form.get("businessName", "").strip() or None


def save_collected(
    state: DoubleState,
    session: dict[str, Any],
    customer_id: str,
    collected: Collected,
    *,
    new_customer: bool,
) -> dict[str, Any]:
    """Write what the page collected to the customer (a new one takes it all; an existing
    one as ``customer_update`` allows); returns ``customer_details``."""
    customer = state.get("customer", customer_id)
    before = snapshot(customer)
    allowed = session.get("customer_update") or {}
    address, name, tax_id = collected.address, collected.name, collected.tax_id
    if address is not None and (new_customer or allowed.get("address") == "auto"):
        customer["address"] = address
    if name is not None and (new_customer or allowed.get("name") == "auto"):
        customer["name"] = name
    tax_ids = []
    if tax_id is not None:
        record_tax_id(state, customer, tax_id)
        tax_ids = [tax_id]
    if customer != before and not new_customer:
        emit(state, "customer.updated", customer, at=state.now_for(customer_id), previous=before)
    return {
        "address": address,
        "email": customer["email"],
        "name": customer["name"],
        "phone": customer["phone"],
        "tax_exempt": "none",
        "tax_ids": tax_ids,
    }


def record_tax_id(
    state: DoubleState, customer: dict[str, Any], tax_id: dict[str, str]
) -> dict[str, Any]:
    """A tax id of the customer (Checkout's or ``POST /v1/customers/{id}/tax_ids``), with
    its ``customer.tax_id.created`` event."""
    at = state.now_for(customer["id"])
    recorded = state.put(
        {
            "id": new_id("txi"),
            "object": "tax_id",
            "country": tax_id["value"][:2].upper() if tax_id["type"] == "eu_vat" else None,
            "created": at,
            "customer": customer["id"],
            "livemode": False,
            "type": tax_id["type"],
            "value": tax_id["value"],
            "verification": {"status": "pending", "verified_address": None, "verified_name": None},
        }
    )
    emit(state, "customer.tax_id.created", recorded, at=at)
    return recorded
