"""Renewals at risk (issue 10), on both stores: ``GET /api/ops/renewals-at-risk`` and the
``ledger_renewals_at_risk`` gauge, one definition, over real syncs sent to the double."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from starlette.testclient import TestClient

from app.bootstrap import Container, bootstrap
from app.entrypoints.http.web import create_app
from app.metrics import renewals_at_risk
from app.settings import load_settings
from domain.billing import SubscriptionSnapshot
from tests.support.api import TOKEN_SECRET, bearer
from tests.support.clock import SteppingClock
from tests.support.sync_failures import SyncStack, sync_stack

AT_RISK = "/api/ops/renewals-at-risk"
FINANCE = bearer("analyst", "finance")


@dataclass
class Risks:
    client: TestClient
    stack: SyncStack
    container: Container

    def listed(self) -> list[dict[str, Any]]:
        response = self.client.get(AT_RISK, headers=FINANCE, params={"limit": 1000})
        assert response.status_code == 200, response.text
        entries: list[dict[str, Any]] = response.json()["entries"]
        assert renewals_at_risk(self.container) == len(entries)  # the gauge: same query
        return entries

    def within_the_lead(self, organizer_id: str = "org-1") -> None:
        self.stack.clock.now = self.stack.period_end(organizer_id) - timedelta(minutes=30)
        self.stack.react_and_project()


@pytest.fixture
def risks(database_url: str, clock: SteppingClock) -> Iterator[Risks]:
    settings = load_settings(
        database_url=database_url, token_secret=TOKEN_SECRET, snapshot_interval=5
    )
    container: Container = bootstrap(settings, clock=clock, embedded_migrate=False)
    container.migrate()
    with sync_stack(container, clock) as stack, TestClient(create_app(container)) as client:
        yield Risks(client, stack, container)


class TestASyncNotConfirmedByTheLead:
    def test_is_not_at_risk_while_the_renewal_is_further_away(self, risks: Risks) -> None:
        risks.stack.failed_syncs("org-1", status=429)
        assert risks.listed() == []

    def test_is_listed_with_its_reason_once_within_the_lead(self, risks: Risks) -> None:
        (sync_id,) = risks.stack.failed_syncs("org-1", status=429)
        risks.within_the_lead()
        (entry,) = risks.listed()
        assert entry == {
            "organizer_id": "org-1",
            "subscription_id": risks.stack.subscriptions["org-1"]["id"],
            "kind": "sync",
            "subject": sync_id,
            "renewal_at": entry["renewal_at"],
            "status": "retrying",
            "reason": entry["reason"],
            "since": entry["since"],
        }
        assert entry["reason"].startswith("quantity sync to 2 not confirmed (retrying: ")
        assert entry["renewal_at"].startswith(risks.stack.period_end("org-1").strftime("%Y-%m-%d"))

    def test_a_refused_sync_stays_listed(self, risks: Risks) -> None:
        risks.stack.failed_syncs("org-1", status=400)
        risks.within_the_lead()
        ((entry,),) = [risks.listed()]
        assert entry["status"] == "failed"

    def test_is_no_risk_once_confirmed(self, risks: Risks) -> None:
        risks.stack.failed_syncs("org-1", status=429)
        risks.stack.clock.advance(timedelta(seconds=5))
        risks.stack.send()
        risks.within_the_lead()
        assert risks.listed() == []


class TestDriftWithoutSync:
    def test_is_listed_within_the_lead(self, risks: Risks) -> None:
        risks.stack.subscribe("org-1")
        risks.stack.renewal_needs("org-1", 3)  # no reaction ran: nothing requested
        risks.stack.clock.now = risks.stack.period_end("org-1") - timedelta(minutes=30)
        risks.stack.react_and_project_read_models_only()
        (entry,) = risks.listed()
        assert (entry["kind"], entry["status"]) == ("drift", "drift")
        assert entry["reason"] == "Stripe bills 1, 3 billable: no quantity sync requested"

    def test_a_subscription_ending_at_its_period_close_is_no_risk(self, risks: Risks) -> None:
        subscription = risks.stack.subscribe("org-1")
        risks.stack.renewal_needs("org-1", 3)
        item = subscription["items"]["data"][0]
        snapshot = SubscriptionSnapshot(
            subscription_id=subscription["id"],
            item_id=item["id"],
            price_id=item["price"]["id"],
            status="active",
            quantity=1,
            current_period_start=risks.stack.clock.now - timedelta(days=20),
            current_period_end=risks.stack.period_end("org-1"),
            observed_at=risks.stack.clock.now + timedelta(seconds=1),
            cancel_at_period_end=True,
        )
        risks.container.ledger.update(
            "org-1",
            lambda org, at: org.observe_subscription(snapshot, source="evt_cancel", at=at),
        )
        risks.stack.clock.now = risks.stack.period_end("org-1") - timedelta(minutes=30)
        risks.stack.react_and_project_read_models_only()
        assert risks.listed() == []


def test_a_page_cursor_from_elsewhere_is_refused(risks: Risks) -> None:
    response = risks.client.get(AT_RISK, headers=FINANCE, params={"cursor": "nope"})
    assert response.status_code == 400
