"""Card fields on the double's Checkout page, checked like Stripe's test mode checks them.

The fields carry the ids of Stripe's hosted Checkout page (``cardNumber``, ``cardExpiry``,
``cardCvc``, ``billingName``), so one browser script (``ledger smoke --mode browser``)
fills both. A form posted without a card number pays as before (the "Pay" button alone):
the fields are there to be filled, not required.

Test mode takes only test cards (docs.stripe.com/testing): 4242 4242 4242 4242 and the
other success numbers pay, 4000 0000 0000 0002 is declined, anything else is refused.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime

from stripe_double.errors import StripeError, card_declined

SUCCEEDING = frozenset(
    {"4242424242424242", "4000056655665556", "5555555555554444", "378282246310005"}
)
DECLINED = frozenset({"4000000000000002"})
_EXPIRY = re.compile(r"(\d{2})\s*/\s*(\d{2})")

FIELDS_HTML = (
    "<fieldset><legend>Card information</legend>"
    "<p><label for='cardNumber'>Card number</label> "
    "<input id='cardNumber' name='cardNumber' inputmode='numeric' autocomplete='cc-number' "
    "placeholder='1234 1234 1234 1234'></p>"
    "<p><label for='cardExpiry'>Expiry</label> "
    "<input id='cardExpiry' name='cardExpiry' autocomplete='cc-exp' placeholder='MM / YY'> "
    "<label for='cardCvc'>CVC</label> "
    "<input id='cardCvc' name='cardCvc' inputmode='numeric' autocomplete='cc-csc'></p>"
    "<p><label for='billingName'>Cardholder name</label> "
    "<input id='billingName' name='billingName' autocomplete='cc-name'></p>"
    "</fieldset>"
)


def _invalid(message: str, code: str) -> StripeError:
    return StripeError(message, type_="card_error", code=code)


def card_problem(form: Mapping[str, str], *, now: datetime | None = None) -> StripeError | None:
    """Why the card posted with the Checkout form cannot pay (None: it can, or none was
    entered)."""
    number = re.sub(r"[\s-]", "", form.get("cardNumber", ""))
    if not number:
        return None
    if number in DECLINED:
        return card_declined()
    if number not in SUCCEEDING:
        return _invalid("Your card number is invalid.", "incorrect_number")
    expiry = _EXPIRY.fullmatch(form.get("cardExpiry", "").strip())
    today = now or datetime.now(UTC)
    if expiry is None or not 1 <= int(expiry[1]) <= 12:
        return _invalid("Your card's expiration date is incomplete.", "incomplete_expiry")
    if (2000 + int(expiry[2]), int(expiry[1])) < (today.year, today.month):
        return _invalid("Your card's expiration year is in the past.", "invalid_expiry_year")
    if not re.fullmatch(r"\d{3,4}", form.get("cardCvc", "").strip()):
        return _invalid("Your card's security code is incomplete.", "incomplete_cvc")
    return None
