"""Where Checkout may send an organizer back to: only our own origins (no open redirect).

``success_url``/``cancel_url`` come from the caller and Stripe redirects the browser to
them after payment. Unchecked, ``https://evil.example/…`` or ``javascript:…`` would make
our Checkout a phishing hop. Allowed: absolute http(s) URLs on ``LEDGER_PUBLIC_URL``'s
origin or one of ``LEDGER_REDIRECT_ORIGINS``.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit


def origin_of(url: str) -> str | None:
    """``scheme://host[:port]``, lower-cased, default ports dropped; None if not http(s)."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        return None
    default = {"http": 80, "https": 443}[scheme]
    host = parts.hostname.lower()
    return f"{scheme}://{host}" if port in (None, default) else f"{scheme}://{host}:{port}"


def redirect_problem(url: str, allowed: Iterable[str]) -> str | None:
    """Why ``url`` may not be a Checkout return address, or None when it may."""
    if not url.isprintable() or "\\" in url:
        return "must be a plain absolute URL"
    origin = origin_of(url)
    if origin is None:
        return "must be an absolute http(s) URL"
    if origin not in {o for o in (origin_of(a) for a in allowed) if o is not None}:
        return f"must be on this service's origin, not {origin}"
    return None
