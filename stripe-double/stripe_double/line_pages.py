"""An invoice as Stripe renders it: its ``lines`` are the first page only.

Stripe embeds "the first handful" of an invoice's line items in every invoice it returns
or puts in an event, with ``has_more`` when there are more; the rest are read from
``GET /v1/invoices/{id}/lines`` (paged like any list: ``limit`` 1..100, default 10). The
double stores every line and cuts the page at render time (responses and events), so the
lines route still serves them all.
"""

from __future__ import annotations

from typing import Any

EMBEDDED_LINES = 10


def first_page_of_lines(node: Any) -> Any:
    """Cut, in place, every invoice's ``lines`` inside ``node`` (a rendered copy) to
    its first page, setting ``has_more``; returns ``node``."""
    if isinstance(node, list):
        for entry in node:
            first_page_of_lines(entry)
    elif isinstance(node, dict):
        lines = node.get("lines")
        if node.get("object") == "invoice" and isinstance(lines, dict):
            data = lines.get("data")
            if isinstance(data, list) and len(data) > EMBEDDED_LINES:
                lines.update(data=data[:EMBEDDED_LINES], has_more=True)
        for value in node.values():
            first_page_of_lines(value)
    return node
