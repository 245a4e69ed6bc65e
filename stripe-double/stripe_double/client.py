"""A real `stripe` SDK client pointed at a running double."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import requests
import stripe

DEFAULT_API_KEY = "sk_test_double"


@contextmanager
def sdk_client(
    base_url: str,
    *,
    api_key: str = DEFAULT_API_KEY,
    max_network_retries: int = 0,
    timeout: float = 80.0,
) -> Iterator[stripe.StripeClient]:
    """A `StripeClient` whose every base address is the double; its HTTP session is
    closed on exit (an unclosed one leaks sockets, which strict test runs reject)."""
    session = requests.Session()
    try:
        yield stripe.StripeClient(
            api_key,
            base_addresses={
                "api": base_url,
                "files": base_url,
                "connect": base_url,
                "meter_events": base_url,
            },
            max_network_retries=max_network_retries,
            http_client=stripe.RequestsClient(timeout=timeout, session=session),
        )
    finally:
        session.close()
