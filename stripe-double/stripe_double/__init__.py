"""A Stripe API test double that the real `stripe` SDK talks to over loopback HTTP.

See docs/stripe-double.md for what it implements and how to drive it.
"""

from __future__ import annotations

from stripe_double.client import sdk_client
from stripe_double.server import RunningDouble, create_app, running_double, serve

__all__ = ["RunningDouble", "create_app", "running_double", "sdk_client", "serve"]
