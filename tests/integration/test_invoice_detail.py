"""Each invoice explained, and active groups over time (issue 16), over HTTP on both stores.

Group changes go in through ``POST /internal/group-changes`` (some with the optional
``group_name``), invoices through the aggregate, and both routes read the read models.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from starlette.testclient import TestClient

from app.bootstrap import Container, bootstrap
from app.entrypoints.http.web import create_app
from app.settings import load_settings
from domain.billing import InvoiceFacts
from projections.runner import LogReader, build_read_models, catch_up
from projections.times import to_text
from tests.support.api import SERVICE_TOKEN, TOKEN_SECRET, bearer
from tests.support.clock import SteppingClock

T0 = datetime(2025, 12, 1, tzinfo=UTC)
RENEWAL = T0 + timedelta(days=30)


@dataclass
class Stack:
    client: TestClient
    container: Container

    def change(
        self, change_id: str, group_id: str, action: str, at: datetime, **extra: Any
    ) -> dict[str, Any]:
        body = {
            "changes": [
                {
                    "change_id": change_id,
                    "organizer_id": "org-a",
                    "group_id": group_id,
                    "action": action,
                    "occurred_at": to_text(at),
                }
                | extra
            ]
        }
        response = self.client.post(
            "/internal/group-changes",
            json=body,
            headers={"Authorization": f"Bearer {SERVICE_TOKEN}"},
        )
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()["results"][0]
        return result

    def invoice(
        self,
        invoice_id: str,
        period_start: datetime,
        quantity: int,
        *,
        status: str = "open",
        event_id: str | None = None,
        **links: str | None,
    ) -> None:
        facts = InvoiceFacts(
            invoice_id=invoice_id,
            subscription_id="sub_a",
            billing_reason="subscription_cycle",
            period_start=period_start,
            period_end=period_start + timedelta(days=30),
            quantity=quantity,
            subtotal=500 * quantity,
            tax=100,
            total=500 * quantity + 100,
            amount_due=500 * quantity + 100,
            amount_paid=0,
            currency="eur",
            status=status,
            hosted_invoice_url=links.get("hosted_invoice_url"),
            invoice_pdf=links.get("invoice_pdf"),
        )
        source = event_id or f"evt_{invoice_id}"
        self.container.ledger.update(
            "org-a", lambda o, at: o.record_invoice(facts, source=source, at=at)
        )

    def project(self) -> None:
        catch_up(
            LogReader(self.container.ledger),
            build_read_models(self.container.database, minimum_quantity=1),
        )

    def get(self, path: str, who: str = "org-a") -> Any:
        return self.client.get(f"/api/organizers/org-a{path}", headers=bearer(who))


@pytest.fixture
def stack(database_url: str) -> Iterator[Stack]:
    clock = SteppingClock(RENEWAL + timedelta(days=3))
    container = bootstrap(
        load_settings(
            database_url=database_url, token_secret=TOKEN_SECRET, service_token=SERVICE_TOKEN
        ),
        clock=clock,
        embedded_migrate=False,
    )
    container.migrate()
    with TestClient(create_app(container)) as client:
        yield Stack(client, container)


def a_month_of_changes(stack: Stack) -> None:
    """g1, g2 before the first invoice; then g3 opens, g1 closes, g2 closes and reopens."""
    stack.change("c1", "g1", "activated", T0 - timedelta(days=2), group_name="  Chess club ")
    stack.change("c2", "g2", "activated", T0 - timedelta(days=1))
    stack.invoice("in_1", T0, 2)
    stack.change("c3", "g3", "activated", T0 + timedelta(days=3), group_name="Choir")
    stack.change("c5", "g1", "deactivated", T0 + timedelta(days=9))
    stack.change("c6", "g2", "deactivated", T0 + timedelta(days=10))
    stack.change("c7", "g2", "activated", T0 + timedelta(days=11), group_name="Drama")
    # Late: arrives after c5 with an older time, and restates what c1 set (moves nothing).
    assert stack.change("c4", "g1", "activated", T0 + timedelta(days=5))["outcome"] == "stale"
    stack.invoice("in_2", RENEWAL, 2)
    # After the renewal instant: not counted, not a change of this invoice.
    stack.change("c8", "g4", "activated", RENEWAL + timedelta(hours=1))
    stack.project()


class TestInvoiceDetail:
    def test_it_names_every_group_counted_at_the_period_start(self, stack: Stack) -> None:
        a_month_of_changes(stack)
        body = stack.get("/invoices/in_2").json()
        assert body["counted_at"] == "2025-12-31T00:00:00Z"
        assert body["counted_groups"] == [
            {"group_id": "g2", "group_name": "Drama"},
            {"group_id": "g3", "group_name": "Choir"},
        ]
        assert body["invoice"]["quantity"] == 2
        assert (body["invoice"]["subtotal"], body["invoice"]["tax"]) == (1000, 100)

    def test_it_lists_the_changes_since_the_previous_invoice_that_moved_the_count(
        self, stack: Stack
    ) -> None:
        a_month_of_changes(stack)
        body = stack.get("/invoices/in_2").json()
        assert body["previous_invoice_id"] == "in_1"
        assert body["changes_since"] == "2025-12-01T00:00:00Z"
        moves = [
            (c["change_id"], c["group_id"], c["change"]) for c in body["changes_since_previous"]
        ]
        assert moves == [
            ("c3", "g3", "opened"),
            ("c5", "g1", "closed"),
            ("c6", "g2", "closed"),
            ("c7", "g2", "opened"),
        ]
        assert body["changes_since_previous"][1]["group_name"] == "Chess club"

    def test_the_first_invoice_explains_from_the_beginning(self, stack: Stack) -> None:
        a_month_of_changes(stack)
        body = stack.get("/invoices/in_1").json()
        assert (body["previous_invoice_id"], body["changes_since"]) == (None, None)
        assert [g["group_id"] for g in body["counted_groups"]] == ["g1", "g2"]
        assert [c["change_id"] for c in body["changes_since_previous"]] == ["c1", "c2"]
        assert body["corrections"] == []
        assert (body["hosted_invoice_url"], body["invoice_pdf"]) == (None, None)

    def test_stripe_links_appear_once_it_finalizes_and_stay_after(self, stack: Stack) -> None:
        page = "https://invoice.stripe.com/i/acct_1/test_abc?s=ap"
        pdf = "https://pay.stripe.com/invoice/acct_1/test_abc/pdf?s=ap"
        stack.change("c1", "g1", "activated", T0 - timedelta(days=1))
        stack.invoice("in_1", T0, 1, status="draft", event_id="evt_draft")
        stack.project()
        body = stack.get("/invoices/in_1").json()
        assert (body["hosted_invoice_url"], body["invoice_pdf"]) == (None, None)

        stack.invoice("in_1", T0, 1, event_id="evt_final", hosted_invoice_url=page, invoice_pdf=pdf)
        stack.project()
        body = stack.get("/invoices/in_1").json()
        assert (body["hosted_invoice_url"], body["invoice_pdf"]) == (page, pdf)

        # A later fact without them (in its own batch) keeps the newest known links.
        stack.invoice("in_1", T0, 1, status="paid", event_id="evt_paid")
        stack.project()
        body = stack.get("/invoices/in_1").json()
        assert body["invoice"]["status"] == "paid"
        assert (body["hosted_invoice_url"], body["invoice_pdf"]) == (page, pdf)

    def test_groups_without_names_are_shown_by_id(self, stack: Stack) -> None:
        stack.change("c1", "g1", "activated", T0 - timedelta(days=1))
        stack.invoice("in_1", T0, 1)
        stack.project()
        body = stack.get("/invoices/in_1").json()
        assert body["counted_groups"] == [{"group_id": "g1", "group_name": None}]

    def test_an_unknown_or_another_organizers_invoice_is_a_404(self, stack: Stack) -> None:
        a_month_of_changes(stack)
        unknown = stack.get("/invoices/in_nope")
        assert unknown.status_code == 404
        assert unknown.headers["content-type"].startswith("application/problem+json")
        other = stack.client.get("/api/organizers/org-b/invoices/in_1", headers=bearer("org-b"))
        assert (other.status_code, other.json()["title"]) == (404, unknown.json()["title"])
        assert stack.get("/invoices/in_1", who="org-b").status_code == 404

    def test_staff_read_it(self, stack: Stack) -> None:
        a_month_of_changes(stack)
        response = stack.client.get(
            "/api/organizers/org-a/invoices/in_2", headers=bearer("someone", "finance")
        )
        assert response.status_code == 200


class TestGroupsHistory:
    def test_one_point_per_change_that_moved_the_count_with_billed_periods(
        self, stack: Stack
    ) -> None:
        a_month_of_changes(stack)
        body = stack.get("/groups/history?from=2025-12-01T00:00:00Z&to=2026-01-02T00:00:00Z")
        assert body.status_code == 200, body.text
        history = body.json()
        assert history["granularity"] == "change"
        assert [p["active_groups"] for p in history["points"]] == [2, 3, 2, 1, 2, 3]
        assert history["points"][0]["at"] == "2025-12-01T00:00:00Z"
        billed = [(b["invoice_id"], b["quantity"]) for b in history["billed"]]
        assert billed == [("in_1", 2), ("in_2", 2)]

    def test_defaults_run_from_the_first_change_to_now(self, stack: Stack) -> None:
        a_month_of_changes(stack)
        history = stack.get("/groups/history").json()
        assert history["range_start"] == "2025-11-29T00:00:00Z"
        assert history["range_end"] == "2026-01-03T00:00:00Z"
        assert history["points"][0]["active_groups"] == 1

    def test_a_long_range_is_one_point_per_day(self, stack: Stack) -> None:
        stack.change("c1", "g1", "activated", T0)
        for i in range(2, 250):
            at = T0 + timedelta(minutes=i)
            stack.change(f"c{i}", "g1", "deactivated" if i % 2 == 0 else "activated", at)
        stack.project()
        history = stack.get("/groups/history?from=2025-11-30T00:00:00Z&to=2025-12-03T00:00:00Z")
        body = history.json()
        assert body["granularity"] == "day"
        assert [(p["at"], p["active_groups"]) for p in body["points"]] == [
            ("2025-11-30T00:00:00Z", 0),
            ("2025-12-01T00:00:00Z", 1),
            ("2025-12-02T00:00:00Z", 1),
            ("2025-12-03T00:00:00Z", 1),
        ]

    @pytest.mark.parametrize(
        ("query", "name"),
        [
            ("from=yesterday", "from"),
            ("from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z", "from"),
            ("from=2020-01-01T00:00:00Z&to=2026-01-01T00:00:00Z", "to"),
        ],
    )
    def test_a_bad_range_is_a_400_naming_it(self, stack: Stack, query: str, name: str) -> None:
        stack.change("c1", "g1", "activated", T0)
        stack.project()
        response = stack.get(f"/groups/history?{query}")
        assert response.status_code == 400
        assert response.json()["invalid_params"][0]["name"] == name

    def test_another_organizer_is_a_404(self, stack: Stack) -> None:
        stack.change("c1", "g1", "activated", T0)
        stack.project()
        assert stack.get("/groups/history", who="org-b").status_code == 404
        missing = stack.client.get(
            "/api/organizers/nobody/groups/history", headers=bearer("nobody")
        )
        assert missing.status_code == 404


class TestGroupNames:
    @pytest.mark.parametrize("name", ["x" * 201, "tab\there", 7])
    def test_a_bad_group_name_rejects_the_item_naming_the_field(
        self, stack: Stack, name: object
    ) -> None:
        result = stack.change("c1", "g1", "activated", T0, group_name=name)
        assert result["outcome"] == "rejected"
        assert result["reason"].startswith("group_name")

    def test_a_change_without_a_name_still_applies(self, stack: Stack) -> None:
        assert stack.change("c1", "g1", "activated", T0)["outcome"] == "applied"


class TestTimelineNames:
    def test_group_entries_name_the_group_where_the_platform_sent_a_name(
        self, stack: Stack
    ) -> None:
        a_month_of_changes(stack)
        entries = stack.get("/timeline?limit=50").json()["entries"]
        titles = [e["title"] for e in entries if e["kind"].startswith("group_")]
        assert "Group Choir (g3) opened" in titles
        assert "Group Chess club (g1) closed" in titles
        assert "Group g4 opened" in titles

    def test_invoice_entries_carry_the_invoice_id(self, stack: Stack) -> None:
        a_month_of_changes(stack)
        entries = stack.get("/timeline?limit=50").json()["entries"]
        invoices = {e["invoice_id"] for e in entries if e["kind"] == "invoice_recorded"}
        assert invoices == {"in_1", "in_2"}
