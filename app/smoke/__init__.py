"""``ledger smoke``: an end-to-end check of a deployed ledger in Stripe test mode.

It ships in the image (the Kubernetes CronJob runs it) and runs against ``make run`` with
the Stripe double. The steps are in :mod:`app.smoke.flow`; docs/smoke.md says what each
mode proves.
"""

from __future__ import annotations

from app.smoke.flow import SmokeOptions, run_smoke

__all__ = ["SmokeOptions", "run_smoke"]
