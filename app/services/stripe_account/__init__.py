"""Use cases for the Stripe account itself: ``ledger stripe setup``, ``check`` and
``backfill``, and the worker's catching up after downtime (docs/stripe-setup.md)."""
