"""``python -m app.cli`` runs the ``ledger`` command."""

from __future__ import annotations

import sys

from app.cli import main

sys.exit(main())
