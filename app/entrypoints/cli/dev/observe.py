"""What ``ledger dev renew`` reads to know the ledger has reacted: the organizer as the
event store has it, its invoices' read model, and whether the worker has caught up."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from adapters.persistence.inbox import StripeInbox
from app.bootstrap import Container
from app.entrypoints.cli.dev.errors import DevStackError
from app.metrics import FOLLOWERS
from app.services.organizers.invoices import read_all as all_invoices
from app.services.organizers.models import Invoice
from domain.organizer import Organizer
from projections.view import view_for

T = TypeVar("T")
POLL_S = 0.2
# A sync in these states is still the worker's to send.
UNSENT = frozenset({"pending", "retrying"})


class LedgerView:
    """One organizer, polled through the container of this process."""

    def __init__(self, container: Container, organizer_id: str, *, timeout_s: float) -> None:
        self.container = container
        self.organizer_id = organizer_id
        self.timeout_s = timeout_s

    def organizer(self) -> Organizer:
        found = self.container.ledger.find(self.organizer_id)
        if found is None:
            msg = f"the ledger knows no organizer {self.organizer_id!r}"
            raise DevStackError(msg)
        return found

    def invoice(self, invoice_id: str) -> Invoice | None:
        rows = all_invoices(self.container.database, self.organizer_id)
        return next((row for row in rows if row.invoice_id == invoice_id), None)

    def caught_up(self) -> bool:
        """Nothing left for the worker: no inbox row to translate, every follower of the
        log at its end, and no quantity sync of this organizer waiting to be sent."""
        if StripeInbox(self.container.database).counts().get("pending", 0):
            return False
        end = self.container.ledger.recorder.max_notification_id() or 0
        database = self.container.database
        for name in FOLLOWERS:
            if (view_for(database, name, ()).max_tracking_id() or 0) < end:
                return False
        return not any(s["status"] in UNSENT for s in self.organizer().syncs.values())

    def wait(self, probe: Callable[[], T | None], what: str) -> T:
        """Poll ``probe`` until it returns a value; ``DevStackError`` naming ``what`` after
        the timeout."""
        deadline = time.monotonic() + self.timeout_s
        while True:
            found = probe()
            if found is not None:
                return found
            if time.monotonic() > deadline:
                msg = (
                    f"timed out after {self.timeout_s:g} s waiting for {what};"
                    " is `ledger dev up` running? (see its log, `ledger inbox list`,"
                    " `ledger ops failures`)"
                )
                raise DevStackError(msg)
            time.sleep(POLL_S)
