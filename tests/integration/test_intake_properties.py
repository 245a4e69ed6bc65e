"""Property: whatever the arrival order and duplication of Stripe deliveries and platform
group changes, the organizer ends in the state of the sorted, de-duplicated sequence."""

from __future__ import annotations

import random
import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.persistence.inbox import StripeInbox
from app.bootstrap import bootstrap
from app.services.intake.stripe_inbox import InboxProcessor
from app.settings import load_settings
from domain.groups import GroupAction
from tests.support.inbox import deliver
from tests.support.stripe_payloads import (
    SHAPES,
    T0,
    ShapeName,
    checkout_event,
    invoice_event,
    subscription_event,
    utc,
)

Item = tuple[str, Any]  # ("stripe", event) or ("group", (group, action, minute, change_id))

STATUSES = ["active", "active", "past_due", "canceled"]
INVOICE_STEPS = [
    ("invoice.created", "draft"),
    ("invoice.finalized", "open"),
    ("invoice.paid", "paid"),
]


@st.composite
def histories(draw: st.DrawFn) -> list[Item]:
    shape: ShapeName = draw(st.sampled_from(SHAPES))
    items: list[Item] = [
        ("stripe", checkout_event(shape, event_id="evt_co", client_reference_id="org-p"))
    ]
    for i in range(draw(st.integers(1, 4))):
        items.append(
            (
                "stripe",
                subscription_event(
                    shape,
                    event_id=f"evt_s{i}",
                    created=T0 + draw(st.integers(0, 3)) * 60,
                    quantity=draw(st.integers(1, 9)),
                    status=draw(st.sampled_from(STATUSES)),
                ),
            )
        )
    for i, (kind, status) in enumerate(INVOICE_STEPS[: draw(st.integers(0, 3))]):
        items.append(
            (
                "stripe",
                invoice_event(shape, kind, event_id=f"evt_i{i}", created=T0 + i, status=status),
            )
        )
    for i in range(draw(st.integers(0, 6))):
        change = (
            draw(st.sampled_from(["g1", "g2"])),
            draw(st.sampled_from(list(GroupAction))),
            draw(st.integers(0, 3)),
            f"chg-{i}",
        )
        items.append(("group", change))
    return items


def sort_key(item: Item) -> tuple[int, str]:
    kind, payload = item
    if kind == "stripe":
        return (payload["created"], payload["id"])
    return (T0 + payload[2] * 60, payload[3])


def final_state(items: list[Item]) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        container = bootstrap(load_settings(database_url=f"sqlite:///{Path(folder) / 'l.db'}"))
        try:
            inbox = StripeInbox(container.database)
            processor = InboxProcessor(container.ledger, inbox)
            for kind, payload in items:
                if kind == "stripe":
                    deliver(inbox, payload)
                    while processor.process_pending():
                        pass
                else:
                    group, action, minute, change_id = payload
                    container.ledger.change_group(
                        "org-p",
                        action=action,
                        group_id=group,
                        change_id=change_id,
                        occurred_at=utc(T0) + timedelta(minutes=minute),
                    )
            organizer = container.ledger.get("org-p")
            return {
                "groups": organizer.active_group_ids,
                "customer": organizer.stripe_customer_id,
                "subscription": organizer.subscription_snapshot,
                "invoices": organizer.invoices,
                "payments": organizer.payments,
            }
        finally:
            container.close()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(histories(), st.randoms(use_true_random=False), st.data())
def test_any_permutation_with_duplicates_matches_the_sorted_once_sequence(
    items: list[Item], rnd: random.Random, data: st.DataObject
) -> None:
    expected = final_state(sorted(items, key=sort_key))
    deliveries = items + data.draw(st.lists(st.sampled_from(items), max_size=6))
    rnd.shuffle(deliveries)
    assert final_state(deliveries) == expected
