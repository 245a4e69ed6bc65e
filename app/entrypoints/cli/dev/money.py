"""Integer minor units shown as an amount with its currency: ``EUR 17.85``."""

from __future__ import annotations

from decimal import Decimal

# Stripe's zero-decimal and three-decimal currencies (docs.stripe.com/currencies); every
# other currency has two decimals.
ZERO_DECIMAL = frozenset(
    [
        "bif",
        "clp",
        "djf",
        "gnf",
        "jpy",
        "kmf",
        "krw",
        "mga",
        "pyg",
        "rwf",
        "ugx",
        "vnd",
        "vuv",
        "xaf",
        "xof",
        "xpf",
    ]
)
THREE_DECIMAL = frozenset({"bhd", "jod", "kwd", "omr", "tnd"})


def format_money(minor: int, currency: str) -> str:
    """``format_money(1785, "eur") == "EUR 17.85"``; exact (no float on the way)."""
    code = currency.lower()
    places = 0 if code in ZERO_DECIMAL else 3 if code in THREE_DECIMAL else 2
    amount = Decimal(minor).scaleb(-places)
    return f"{code.upper()} {amount:,.{places}f}"
