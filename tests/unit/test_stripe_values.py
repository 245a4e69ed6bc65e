"""The gateway's answers read into plain values (adapters/stripe/values.py), from Stripe's
own example objects: a per-unit price, a tiered one, a Checkout Session; and errors that
name the field."""

from __future__ import annotations

import copy
import re
from datetime import UTC, datetime
from typing import Any

import pytest

from adapters.stripe.payload import TranslationError
from adapters.stripe.values import read_checkout_session, read_price
from tests.support.stripe_payloads import fixture


def example_price() -> dict[str, Any]:
    subscription = fixture("openapi_fixtures3__subscription.json")
    price: dict[str, Any] = copy.deepcopy(subscription["items"]["data"][0]["price"])
    return price


class TestPrice:
    def test_a_per_unit_price_has_its_amount_currency_and_interval(self) -> None:
        price = example_price()
        read = read_price(price)
        assert (read.price_id, read.billing_scheme) == (price["id"], "per_unit")
        assert (read.unit_amount, read.currency, read.interval) == (
            price["unit_amount"],
            "usd",
            "month",
        )

    def test_a_tiered_price_has_no_unit_amount(self) -> None:
        price = example_price() | {"billing_scheme": "tiered", "unit_amount": None}
        price["tiers_mode"] = "graduated"
        read = read_price(price)
        assert (read.billing_scheme, read.unit_amount) == ("tiered", None)

    @pytest.mark.parametrize(
        ("change", "message"),
        [
            ({"unit_amount": None}, "price.unit_amount is missing"),
            ({"unit_amount": -1}, "price.unit_amount must not be negative"),
            ({"unit_amount": 1.5}, "price.unit_amount must be an integer"),
            ({"currency": "euro"}, "price.currency must be a three-letter ISO currency code"),
        ],
    )
    def test_a_bad_field_is_named(self, change: dict[str, Any], message: str) -> None:
        with pytest.raises(TranslationError, match=re.escape(message)):
            read_price(example_price() | change)


class TestCheckoutSession:
    def test_stripes_example_reads_its_id_url_and_expiry(self) -> None:
        session = fixture("openapi_fixtures3__checkout_session.json")
        read = read_checkout_session(session)
        assert (read.session_id, read.url) == (session["id"], session["url"])
        assert read.expires_at == datetime.fromtimestamp(session["expires_at"], tz=UTC)

    def test_the_local_double_s_http_page_is_accepted(self) -> None:
        session = fixture("openapi_fixtures3__checkout_session.json")
        url = "http://127.0.0.1:12111/checkout/cs_test_1"
        assert read_checkout_session(session | {"url": url}).url == url

    @pytest.mark.parametrize(
        "url", [None, "", "javascript:alert(1)", "/relative", "https://x y", "ftp://host/x"]
    )
    def test_a_session_without_a_usable_url_is_refused(self, url: object) -> None:
        session = fixture("openapi_fixtures3__checkout_session.json")
        with pytest.raises(TranslationError, match=r"checkout_session\.url"):
            read_checkout_session(session | {"url": url})
