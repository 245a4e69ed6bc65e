"""The operators' API on both stores, over real failed syncs: the Stripe double refuses
quantity updates sent by the real process manager."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from starlette.testclient import TestClient

from app.bootstrap import Container, bootstrap
from app.entrypoints.http.web import create_app
from app.services.process.manager import RenewalScheduler
from app.settings import load_settings
from tests.support.api import TOKEN_SECRET, bearer
from tests.support.clock import SteppingClock
from tests.support.sync_failures import SyncStack, sync_stack

AUTH = bearer("operator", "ops")
FAILURES = "/api/ops/sync-failures"
DRAFTS = "/api/ops/draft-mismatches"


def retry_url(sync_id: str) -> str:
    return f"{FAILURES}/{sync_id}/retry"


@dataclass
class Ops:
    client: TestClient
    stack: SyncStack

    def get(self, url: str, **params: str | int) -> Any:
        response = self.client.get(url, params=params, headers=AUTH)
        assert response.status_code == 200, response.text
        return response.json()

    def failure_ids(self, **params: str | int) -> list[str]:
        return [f["sync_id"] for f in self.get(FAILURES, limit=1000, **params)["entries"]]

    def retry(self, sync_id: str) -> Any:
        return self.client.post(retry_url(sync_id), headers=AUTH)


@pytest.fixture
def ops(database_url: str, clock: SteppingClock) -> Iterator[Ops]:
    settings = load_settings(
        database_url=database_url, token_secret=TOKEN_SECRET, snapshot_interval=5
    )
    container: Container = bootstrap(settings, clock=clock, embedded_migrate=False)
    container.migrate()
    # The app's lifespan closes the container when the client exits.
    with sync_stack(container, clock) as stack, TestClient(create_app(container)) as client:
        yield Ops(client, stack)


def assert_problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem: dict[str, Any] = response.json()
    return problem


ROUTES = [
    ("GET", FAILURES),
    ("GET", DRAFTS),
    ("GET", "/api/ops/renewals-at-risk"),
    ("POST", retry_url("sync_unknown")),
]


class TestAuth:
    @pytest.mark.parametrize(("method", "url"), ROUTES)
    def test_without_a_token_every_ops_route_is_refused(
        self, ops: Ops, method: str, url: str
    ) -> None:
        response = ops.client.request(method, url)
        assert_problem(response, 401)
        assert response.headers["www-authenticate"].startswith("Bearer")

    @pytest.mark.parametrize(("method", "url"), ROUTES)
    def test_an_organizer_token_is_forbidden(self, ops: Ops, method: str, url: str) -> None:
        response = ops.client.request(method, url, headers=bearer("org-1"))
        assert_problem(response, 403)

    def test_finance_reads_both_lists_but_only_ops_retries(self, ops: Ops) -> None:
        finance = bearer("accountant", "finance")
        assert ops.client.get(DRAFTS, headers=finance).status_code == 200
        assert ops.client.get(FAILURES, headers=finance).status_code == 200
        assert_problem(ops.client.post(retry_url("sync_unknown"), headers=finance), 403)


class TestListFailures:
    def test_a_sync_stripe_refused_is_listed_with_every_field(self, ops: Ops) -> None:
        (sync_id,) = ops.stack.failed_syncs("org-1", groups=3)
        (failure,) = ops.get(FAILURES)["entries"]
        assert failure["sync_id"] == sync_id
        assert failure["organizer_id"] == "org-1"
        assert failure["subscription_id"] == ops.stack.subscriptions["org-1"]["id"]
        assert failure["item_id"] == ops.stack.item_id("org-1")
        assert (failure["quantity"], failure["previous_quantity"]) == (3, 1)
        assert (failure["status"], failure["attempts"]) == ("failed", 1)
        assert failure["trigger"] == "invoice.upcoming"
        assert failure["last_error"].startswith("parameter_invalid")
        assert failure["next_attempt_at"] is None
        assert failure["period_end"].startswith(ops.stack.period_end("org-1").date().isoformat())
        assert failure["requested_at"] <= failure["updated_at"]
        assert (failure["later_sync_id"], failure["later_sync_status"]) == (None, None)

    def test_confirmed_syncs_are_not_failures(self, ops: Ops) -> None:
        ops.stack.subscribe("org-1")
        ops.stack.renewal_needs("org-1", 2)
        ops.stack.send()
        assert ops.get(FAILURES) == {"entries": [], "next_cursor": None}

    def test_retrying_syncs_are_listed_only_when_asked(self, ops: Ops) -> None:
        (failed,) = ops.stack.failed_syncs("org-1")
        (struggling,) = ops.stack.failed_syncs("org-2", status=429)
        assert ops.failure_ids() == [failed]
        assert ops.failure_ids(include_retrying="true") == [failed, struggling]
        (entry,) = ops.get(FAILURES, include_retrying="true")["entries"][1:]
        assert (entry["status"], entry["next_attempt_at"] is not None) == ("retrying", True)

    def test_pages_cover_every_failure_once_oldest_request_first(self, ops: Ops) -> None:
        ids = ops.stack.failed_syncs(*(f"org-{n}" for n in range(5)))
        seen: list[str] = []
        pages, cursor = 0, None
        while True:
            body = ops.get(FAILURES, limit=2, **({} if cursor is None else {"cursor": cursor}))
            seen += [f["sync_id"] for f in body["entries"]]
            pages, cursor = pages + 1, body["next_cursor"]
            if cursor is None:
                break
        assert seen == ids
        assert pages == 3

    @pytest.mark.parametrize(
        ("name", "value"),
        [
            ("include_retrying", "yes"),
            ("include_retried", "1"),
            ("cursor", "garbage!"),
            ("cursor", "WyJhIl0"),
            ("limit", "0"),
            ("limit", "1001"),
        ],
    )
    def test_a_bad_parameter_is_a_400_naming_it(self, ops: Ops, name: str, value: str) -> None:
        response = ops.client.get(FAILURES, params={name: value}, headers=AUTH)
        problem = assert_problem(response, 400)
        assert [p["name"] for p in problem["invalid_params"]] == [name]


class TestRetry:
    def test_a_retry_is_accepted_and_the_sender_confirms_it_with_a_new_key(self, ops: Ops) -> None:
        (failed,) = ops.stack.failed_syncs("org-1", groups=4)
        ops.stack.clock.advance(timedelta(minutes=5))  # the operator looks a while later
        response = ops.retry(failed)
        assert response.status_code == 202, response.text
        body = response.json()
        assert body == {"sync_id": body["sync_id"], "retry_of": failed, "status": "pending"}
        assert body["sync_id"] != failed
        assert ops.stack.send() == 1
        assert ops.stack.stripe_quantity("org-1") == 4
        refused, accepted = ops.stack.quantity_updates()
        assert (refused["status"], accepted["status"]) == (400, 200)
        assert refused["idempotency_key"] != accepted["idempotency_key"]
        sync = ops.stack.organizer("org-1").syncs[body["sync_id"]]
        assert (sync["status"], sync["idempotency_key"]) == (
            "confirmed",
            accepted["idempotency_key"],
        )

    def test_a_retried_failure_is_no_longer_open_but_names_its_retry(self, ops: Ops) -> None:
        (failed,) = ops.stack.failed_syncs("org-1")
        ops.stack.clock.advance(timedelta(minutes=5))
        new_id = ops.retry(failed).json()["sync_id"]
        ops.stack.react_and_project()
        assert ops.failure_ids() == []
        (history,) = ops.get(FAILURES, include_retried="true")["entries"]
        assert (history["sync_id"], history["later_sync_id"]) == (failed, new_id)
        assert history["later_sync_status"] == "pending"
        assert history["status"] in {"failed", "superseded"}  # superseded: the retry settled it

    def test_a_failure_a_newer_decision_follows_is_not_open_and_not_retried(self, ops: Ops) -> None:
        (failed,) = ops.stack.failed_syncs("org-1", groups=2)
        ops.stack.renewal_needs("org-1", 3)  # a third group
        ops.stack.clock.now = ops.stack.period_end("org-1") - timedelta(minutes=30)
        ops.stack.react_and_project()
        assert RenewalScheduler(ops.stack.container.database, ops.stack.reactor).run_once() == 1
        ops.stack.react_and_project()
        newer = next(s for s in ops.stack.organizer("org-1").syncs if s != failed)
        assert ops.failure_ids() == []
        problem = assert_problem(ops.retry(failed), 409)
        assert (problem["sync_status"], problem["later_sync_id"]) == ("failed", newer)
        assert ops.stack.organizer("org-1").syncs[newer]["quantity"] == 3

    @pytest.mark.parametrize("project_between", [False, True])
    def test_retrying_the_same_failure_twice_requests_one_new_sync(
        self, ops: Ops, project_between: bool
    ) -> None:
        (failed,) = ops.stack.failed_syncs("org-1")
        first = ops.retry(failed)
        assert first.status_code == 202
        if project_between:
            ops.stack.react_and_project()
        problem = assert_problem(ops.retry(failed), 409)
        assert (problem["sync_id"], problem["later_sync_id"]) == (failed, first.json()["sync_id"])
        assert len(ops.stack.organizer("org-1").syncs) == 2

    def test_an_unknown_sync_is_a_404(self, ops: Ops) -> None:
        problem = assert_problem(ops.retry("sync_000000000000000000000000"), 404)
        assert problem["type"].endswith("/sync-not-found")

    def test_a_confirmed_sync_is_a_409(self, ops: Ops) -> None:
        ops.stack.subscribe("org-1")
        ops.stack.renewal_needs("org-1", 2)
        ops.stack.send()
        (confirmed,) = ops.stack.organizer("org-1").syncs
        problem = assert_problem(ops.retry(confirmed), 409)
        assert (problem["sync_status"], problem["later_sync_id"]) == ("confirmed", None)
        assert "not failed" in problem["detail"]

    def test_a_retrying_sync_is_a_409_the_sender_retries_it_itself(self, ops: Ops) -> None:
        (struggling,) = ops.stack.failed_syncs("org-1", status=429)
        problem = assert_problem(ops.retry(struggling), 409)
        assert problem["sync_status"] == "retrying"


class TestDraftMismatches:
    def test_a_renewal_draft_at_the_wrong_quantity_is_listed(self, ops: Ops) -> None:
        ops.stack.subscribe("org-1")
        ops.stack.renewal_needs("org-1", 3)
        ops.stack.draft_mismatch("org-1", billed=1, invoice_id="in_wrong")
        (draft,) = ops.get(DRAFTS)["entries"]
        assert draft == {
            "invoice_id": "in_wrong",
            "organizer_id": "org-1",
            "subscription_id": ops.stack.subscriptions["org-1"]["id"],
            "period_start": draft["period_start"],
            "billed_quantity": 1,
            "expected_quantity": 3,
            "reported_at": draft["reported_at"],
        }

    def test_a_draft_at_the_right_quantity_is_not_listed(self, ops: Ops) -> None:
        ops.stack.subscribe("org-1")
        ops.stack.renewal_needs("org-1", 3)
        ops.stack.draft_mismatch("org-1", billed=3, invoice_id="in_right")
        assert ops.get(DRAFTS) == {"entries": [], "next_cursor": None}

    def test_drafts_page_like_the_other_lists(self, ops: Ops) -> None:
        for n in range(3):
            ops.stack.subscribe(f"org-{n}")
            ops.stack.renewal_needs(f"org-{n}", 2)
            ops.stack.draft_mismatch(f"org-{n}", billed=5, invoice_id=f"in_{n}")
            ops.stack.clock.advance(timedelta(seconds=1))
        first = ops.get(DRAFTS, limit=2)
        rest = ops.get(DRAFTS, limit=2, cursor=first["next_cursor"])
        seen = [d["invoice_id"] for d in first["entries"] + rest["entries"]]
        assert (seen, rest["next_cursor"]) == (["in_0", "in_1", "in_2"], None)
