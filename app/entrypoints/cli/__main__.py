"""``python -m app.entrypoints.cli`` runs the ``ledger`` command."""

from __future__ import annotations

import sys

from app.entrypoints.cli import main

sys.exit(main())
