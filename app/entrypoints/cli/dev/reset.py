"""``ledger dev reset``: forget the dev stack's world (``./var``), after a confirmation."""

from __future__ import annotations

import argparse
import shutil
import sys

from app.dev_env import DEV_DIR
from app.entrypoints.cli.dev.errors import DevStackError
from app.entrypoints.cli.dev.lock import LOCK, StackLock, StackRunningError


def run_reset(args: argparse.Namespace) -> int:
    """Delete ``./var`` (ledger store, Stripe double state, dev.env); refuses while a stack
    runs on it. 0 when wiped (or nothing to wipe), 1 when not confirmed."""
    if not DEV_DIR.exists():
        print(f"nothing to reset: there is no {DEV_DIR}/ here")
        return 0
    try:
        # Held while deleting, so no `dev up` can start on a half-deleted var/.
        with StackLock(LOCK, url="ledger dev reset"):
            if not args.yes and not _confirmed():
                print("ledger: not reset (answer y to confirm, or pass --yes)", file=sys.stderr)
                return 1
            shutil.rmtree(DEV_DIR)
    except StackRunningError as error:
        msg = f"{error}: stop it before resetting"
        raise DevStackError(msg) from None
    print(f"deleted {DEV_DIR}/: the next `ledger dev up` starts afresh")
    return 0


def _confirmed() -> bool:
    prompt = (
        f"Delete {DEV_DIR.resolve()}/ (the ledger's store, the Stripe double's state and"
        " dev.env)? [y/N] "
    )
    try:
        answer = input(prompt)
    except EOFError:  # no terminal, no answer: keep everything
        return False
    return answer.strip().lower() in {"y", "yes"}
