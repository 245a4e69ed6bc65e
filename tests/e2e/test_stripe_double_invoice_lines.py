"""An invoice of more lines than Stripe embeds, through the real SDK against the double:
the invoice (and its events) carry the first 10 lines with ``has_more``, the rest come
from ``GET /v1/invoices/{id}/lines``, and the intake completes the invoice from there
before it reads the per-group line."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
import stripe

from adapters.stripe.commands import RecordInvoice
from adapters.stripe.gateway import StripeGateway
from adapters.stripe.translate import MoreLinesNeeded, translate, with_all_lines

if TYPE_CHECKING:
    from tests.e2e.stripe_double_support import DoubleEnv

pytest_plugins = ["tests.e2e.stripe_double_support"]

LINES = 12
API_KEY = "sk_test_double"  # the key tests/e2e/stripe_double_support.py uses


def _invoice_of_many_lines(double: DoubleEnv) -> tuple[str, str]:
    """A subscription of 12 items whose per-group one (quantity 7) is the last:
    (its first invoice's id, the per-group price)."""
    prices = [double.seed(unit_amount=100 + n) for n in range(LINES)]
    customer = double.stripe.v1.customers.create(params={"email": "many@example.com"})
    items: list[Any] = [{"price": price, "quantity": 1} for price in prices[:-1]]
    items.append({"price": prices[-1], "quantity": 7})
    sub = double.stripe.v1.subscriptions.create(params={"customer": customer.id, "items": items})
    return str(sub.latest_invoice), prices[-1]


def _paid_event(double: DoubleEnv, invoice_id: str) -> dict[str, Any]:
    events = double.stripe.v1.events.list(params={"type": "invoice.paid", "limit": 100})
    found = [e for e in events.data if e.data.object["id"] == invoice_id]
    assert len(found) == 1
    event: dict[str, Any] = found[0].to_dict()
    return event


def test_an_invoice_embeds_its_first_10_lines(double: DoubleEnv) -> None:
    invoice_id, _ = _invoice_of_many_lines(double)
    invoice = double.stripe.v1.invoices.retrieve(invoice_id)
    listed = double.stripe.v1.invoices.list(params={"limit": 1}).data[0]
    event = _paid_event(double, invoice_id)

    for lines in (invoice.lines, listed.lines):
        assert (len(lines.data), lines.has_more) == (10, True)
        assert lines.url == f"/v1/invoices/{invoice_id}/lines"
    assert len(event["data"]["object"]["lines"]["data"]) == 10
    assert event["data"]["object"]["lines"]["has_more"] is True


def test_the_lines_route_pages_them_as_stripe_does(double: DoubleEnv) -> None:
    invoice_id, price = _invoice_of_many_lines(double)
    lines = double.stripe.v1.invoices.line_items

    first = lines.list(invoice_id)
    rest = lines.list(invoice_id, params={"starting_after": first.data[-1].id})
    everything = lines.list(invoice_id, params={"limit": 100})

    assert (len(first.data), first.has_more, first.url) == (
        10,
        True,
        f"/v1/invoices/{invoice_id}/lines",
    )
    assert (len(rest.data), rest.has_more) == (2, False)
    assert [line.id for line in everything.data] == [line.id for line in first.data + rest.data]
    last = everything.data[-1]
    assert last.pricing is not None
    assert last.pricing.price_details is not None
    assert (last.pricing.price_details.price, last.quantity) == (price, 7)
    with pytest.raises(stripe.InvalidRequestError) as caught:
        lines.list(invoice_id, params={"limit": 101})
    assert caught.value.param == "limit"


def test_the_gateway_completes_an_invoice_whose_group_line_is_not_embedded(
    double: DoubleEnv,
) -> None:
    invoice_id, price = _invoice_of_many_lines(double)
    event = _paid_event(double, invoice_id)
    with pytest.raises(MoreLinesNeeded) as caught:
        translate(event, group_price_ids={price})
    assert caught.value.invoice_id == invoice_id

    gateway = StripeGateway(api_key=API_KEY, api_base=double.base_url)
    try:
        lines = gateway.invoice_lines(invoice_id)
    finally:
        gateway.close()
    translation = translate(with_all_lines(event, lines), group_price_ids={price})

    assert len(lines) == LINES
    assert len(double.requests(f"/v1/invoices/{invoice_id}/lines")) == 1  # 100 a page
    (command, *_) = translation.commands
    assert isinstance(command, RecordInvoice)
    facts = command.invoice
    assert (facts.quantity, facts.line_id) == (7, lines[-1]["id"])
