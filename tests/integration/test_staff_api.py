"""The staff area's own lists (app/entrypoints/http/routes/staff.py) on both stores: renewal invoice
corrections and the organizer search, with who may read them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from starlette.testclient import TestClient

from app.bootstrap import Container, bootstrap
from app.entrypoints.http.auth import Role
from app.entrypoints.http.web import create_app
from app.settings import load_settings
from tests.support.api import TOKEN_SECRET, bearer
from tests.support.clock import SteppingClock
from tests.support.renewals import RenewalStack, renewal_stack
from tests.support.sync_failures import SyncStack, sync_stack

CORRECTIONS = "/api/staff/corrections"
ORGANIZERS = "/api/staff/organizers"
FINANCE = bearer("accountant", "finance")


@pytest.fixture
def staff_container(database_url: str, clock: SteppingClock) -> Iterator[Container]:
    settings = load_settings(
        database_url=database_url, token_secret=TOKEN_SECRET, snapshot_interval=5
    )
    container = bootstrap(settings, clock=clock, embedded_migrate=False)
    container.migrate()
    try:
        yield container
    finally:
        container.close()


@pytest.fixture
def client(staff_container: Container) -> Iterator[TestClient]:
    with TestClient(create_app(staff_container)) as built:
        yield built


@pytest.fixture
def syncs(staff_container: Container, clock: SteppingClock) -> Iterator[SyncStack]:
    with sync_stack(staff_container, clock) as stack:
        yield stack


def get(client: TestClient, url: str, **params: str | int) -> Any:
    response = client.get(url, params=params, headers=FINANCE)
    assert response.status_code == 200, response.text
    return response.json()


def assert_problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem: dict[str, Any] = response.json()
    return problem


class TestAuth:
    @pytest.mark.parametrize("url", [CORRECTIONS, f"{ORGANIZERS}?q=org"])
    def test_without_a_token_the_route_is_refused(self, client: TestClient, url: str) -> None:
        assert_problem(client.get(url), 401)

    @pytest.mark.parametrize("url", [CORRECTIONS, f"{ORGANIZERS}?q=org"])
    def test_an_organizer_token_is_forbidden(self, client: TestClient, url: str) -> None:
        assert_problem(client.get(url, headers=bearer("org-1")), 403)

    @pytest.mark.parametrize("role", ["finance", "ops"])
    @pytest.mark.parametrize("url", [CORRECTIONS, f"{ORGANIZERS}?q=org"])
    def test_finance_and_ops_read_them(self, client: TestClient, url: str, role: Role) -> None:
        assert client.get(url, headers=bearer("staff", role)).status_code == 200


class TestCorrections:
    def test_none_decided_is_an_empty_page(self, client: TestClient) -> None:
        assert get(client, CORRECTIONS) == {"entries": [], "next_cursor": None}

    def test_a_corrected_renewal_draft_is_listed_with_its_organizer(
        self, staff_container: Container, clock: SteppingClock, client: TestClient
    ) -> None:
        with renewal_stack(staff_container, clock) as stack:
            draft = correct_a_draft(stack)
        (correction,) = get(client, CORRECTIONS)["entries"]
        assert correction["organizer_id"] == "org-1"
        assert correction["invoice_id"] == draft["id"]
        assert (correction["quantity"], correction["status"]) == (2, "confirmed")
        assert correction["currency"] == draft["currency"]
        assert correction["stripe_object_id"] is not None
        assert correction["requested_at"] <= correction["updated_at"]
        assert get(client, CORRECTIONS, status="confirmed")["entries"] == [correction]
        assert get(client, CORRECTIONS, status="pending")["entries"] == []

    @pytest.mark.parametrize(
        ("name", "value"), [("status", "done"), ("cursor", "nope"), ("limit", "0")]
    )
    def test_a_bad_parameter_is_a_400_naming_it(
        self, client: TestClient, name: str, value: str
    ) -> None:
        response = client.get(CORRECTIONS, params={name: value}, headers=FINANCE)
        problem = assert_problem(response, 400)
        assert problem["invalid_params"][0]["name"] == name


def correct_a_draft(stack: RenewalStack) -> dict[str, Any]:
    """A renewal draft at 5 for 7 groups, corrected on the draft by the ledger."""
    stack.subscribe(quantity=5)
    stack.groups(7, at=stack.period_end - timedelta(days=10))
    stack.advance(stack.period_end + timedelta(minutes=1))
    draft = stack.renewal_invoice()
    stack.deliver("invoice.created", draft)
    stack.work()
    return draft


class TestSearchOrganizers:
    def test_a_platform_id_prefix_finds_organizers_by_id(
        self, syncs: SyncStack, client: TestClient
    ) -> None:
        for organizer_id in ("org-b", "org-a", "other"):
            syncs.subscribe(organizer_id)
        syncs.react_and_project()
        hits = get(client, ORGANIZERS, q="org-")["entries"]
        assert [hit["organizer_id"] for hit in hits] == ["org-a", "org-b"]
        assert hits[0]["subscription_id"] == syncs.subscriptions["org-a"]["id"]
        assert (hits[0]["subscription_status"], hits[0]["drift"]) == ("active", False)

    def test_a_subscription_or_customer_id_finds_its_organizer(
        self, syncs: SyncStack, client: TestClient
    ) -> None:
        subscription = syncs.subscribe("org-1")
        syncs.subscribe("org-2")
        customer_id = str(subscription["customer"])
        syncs.container.ledger.update(
            "org-1",
            lambda org, at: org.link_stripe_customer(customer_id, source="evt_cus", at=at),
        )
        syncs.react_and_project()
        (by_subscription,) = get(client, ORGANIZERS, q=subscription["id"])["entries"]
        (by_customer,) = get(client, ORGANIZERS, q=customer_id)["entries"]
        assert by_subscription["organizer_id"] == by_customer["organizer_id"] == "org-1"
        assert by_customer["customer_id"] == customer_id
        assert get(client, ORGANIZERS, q=customer_id[:-1])["entries"] == []

    def test_like_wildcards_in_the_text_match_only_themselves(
        self, syncs: SyncStack, client: TestClient
    ) -> None:
        syncs.subscribe("org-1")
        syncs.react_and_project()
        for text in ("%", "_", "org%"):
            assert get(client, ORGANIZERS, q=text)["entries"] == []

    def test_pages_cover_every_match_once(self, syncs: SyncStack, client: TestClient) -> None:
        for n in range(5):
            syncs.subscribe(f"org-{n}")
        syncs.react_and_project()
        seen: list[str] = []
        cursor: str | None = None
        while True:
            params: dict[str, str | int] = {"q": "org", "limit": 2}
            if cursor is not None:
                params["cursor"] = cursor
            page = get(client, ORGANIZERS, **params)
            seen += [hit["organizer_id"] for hit in page["entries"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert seen == [f"org-{n}" for n in range(5)]

    @pytest.mark.parametrize("query", ["", "?q=", "?q=%20", f"?q={'x' * 201}"])
    def test_a_missing_or_overlong_text_is_a_400(self, client: TestClient, query: str) -> None:
        problem = assert_problem(client.get(f"{ORGANIZERS}{query}", headers=FINANCE), 400)
        assert problem["invalid_params"][0]["name"] == "q"


def test_a_control_character_in_the_text_is_a_400(client: TestClient) -> None:
    problem = assert_problem(client.get(ORGANIZERS, params={"q": "org\x00"}, headers=FINANCE), 400)
    assert problem["invalid_params"][0]["name"] == "q"
