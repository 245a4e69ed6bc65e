"""Metrics and structured logs: how operators see the ledger (docs/deploy.md, Metrics)."""
