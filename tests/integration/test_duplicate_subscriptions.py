"""Two subscriptions for one organizer, subscription schedules and enrollment (issue 13),
through the real SDK against the Stripe double, over HTTP, on both stores."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import stripe

from adapters.persistence.inbox import StripeInbox
from adapters.stripe.translate import read_subscription
from app.services.process.enroll import enroll_existing
from app.services.process.reconcile import DifferenceKind
from app.services.process.reconcile_run import reconcile
from domain.keys import checkout_key
from domain.organizer import Organizer
from domain.renewal import CheckOutcome, ProrationPolicy, SyncTrigger
from stripe_double import sdk_client
from tests.integration import test_organizer_api
from tests.integration.test_organizer_api import Api
from tests.support.api import bearer

OPS = bearer("staff-1", "ops")
api = test_organizer_api.api  # the same fixture: the app, the double, both stores


@pytest.fixture
def client(api: Api) -> Iterator[stripe.StripeClient]:
    base = api.container.settings.stripe_api_base
    assert base is not None
    with sdk_client(base) as sdk:
        yield sdk


def later(api: Api, seconds: int = 60) -> None:
    """Move the double's clock, so the next subscription is created later."""
    now = api.admin.get("/_double/clock").json()["now"]
    api.admin.post("/_double/clock", json={"now": now + seconds}).raise_for_status()


def subscribe(api: Api, client: stripe.StripeClient, customer: str, quantity: int) -> str:
    price = api.container.settings.stripe_price_id
    assert price is not None
    sub = client.v1.subscriptions.create(
        params={"customer": customer, "items": [{"price": price, "quantity": quantity}]}
    )
    return str(sub.id)


def enroll(api: Api, organizer_id: str, subscription_id: str) -> None:
    gateway = api.container.gateway
    assert gateway is not None
    enroll_existing(
        api.container.ledger,
        StripeInbox(api.container.database),
        gateway,
        organizer_id=organizer_id,
        subscription_id=subscription_id,
    )


def requests(api: Api, method: str, prefix: str) -> list[dict[str, Any]]:
    logged: list[dict[str, Any]] = api.admin.get("/_double/requests").json()
    return [r for r in logged if r["method"] == method and r["path"].startswith(prefix)]


@pytest.fixture
def two(api: Api, client: stripe.StripeClient) -> tuple[str, str, str]:
    """org-d with a first subscription and a second, later one for the same customer."""
    api.groups("org-d", 3)
    customer = str(client.v1.customers.create(params={"email": "d@example.com"}).id)
    first = subscribe(api, client, customer, 3)
    later(api)
    second = subscribe(api, client, customer, 1)
    enroll(api, "org-d", first)
    enroll(api, "org-d", second)
    return customer, first, second


class TestDuplicateSubscription:
    def test_the_later_one_is_recorded_as_a_duplicate_of_the_first(
        self, api: Api, two: tuple[str, str, str]
    ) -> None:
        _, first, second = two
        organizer = api.container.ledger.get("org-d")
        primary = organizer.subscription_snapshot
        assert primary is not None
        assert primary.subscription_id == first
        assert organizer.duplicate_subscriptions == {second: first}

    def test_reconcile_json_reports_it_with_both_ids_and_the_customer(
        self, api: Api, two: tuple[str, str, str]
    ) -> None:
        customer, first, second = two
        gateway = api.container.gateway
        assert gateway is not None
        api.project()
        outcome = reconcile(api.container, gateway, organizer_id=None, fix=True)
        [duplicate] = [
            d.as_dict()
            for d in outcome.differences
            if d.kind is DifferenceKind.DUPLICATE_SUBSCRIPTION
        ]
        assert duplicate["subscription_id"] == second
        assert duplicate["primary_subscription_id"] == first
        assert duplicate["customer_id"] == customer
        assert duplicate["organizer_id"] == "org-d"
        # Never synced: the ledger sent no quantity for the duplicate's item.
        item = client_item(api, second)
        assert requests(api, "POST", f"/v1/subscription_items/{item}") == []

    def test_the_ops_list_and_the_billing_page_show_it(
        self, api: Api, two: tuple[str, str, str]
    ) -> None:
        customer, first, second = two
        api.project()
        listed = api.client.get("/api/ops/duplicate-subscriptions", headers=OPS)
        assert listed.status_code == 200, listed.text
        [entry] = listed.json()["entries"]
        assert (entry["subscription_id"], entry["primary_subscription_id"]) == (second, first)
        assert (entry["organizer_id"], entry["customer_id"]) == ("org-d", customer)
        page = api.client.get("/api/organizers/org-d", headers=bearer("org-d")).json()
        assert page["subscription"]["subscription_id"] == first
        assert [d["subscription_id"] for d in page["duplicate_subscriptions"]] == [second]

    def test_canceling_the_duplicate_in_stripe_clears_it(
        self, api: Api, client: stripe.StripeClient, two: tuple[str, str, str]
    ) -> None:
        _, _, second = two
        client.v1.subscriptions.cancel(second)
        gateway = api.container.gateway
        assert gateway is not None
        api.project()
        reconcile(api.container, gateway, organizer_id=None, fix=True)
        api.project()
        listed = api.client.get("/api/ops/duplicate-subscriptions", headers=OPS).json()
        assert listed["entries"] == []
        assert api.container.ledger.get("org-d").duplicate_subscriptions == {}

    def test_enrolling_again_is_refused_while_a_subscription_is_live(
        self, api: Api, two: tuple[str, str, str]
    ) -> None:
        response = api.client.post(
            "/api/organizers/org-d/enrollment", json={}, headers=bearer("org-d")
        )
        assert response.status_code == 409
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["title"] == "Already enrolled"


def client_item(api: Api, subscription_id: str) -> str:
    gateway = api.container.gateway
    assert gateway is not None
    return str(gateway.subscription(subscription_id)["items"]["data"][0]["id"])


class TestEnrollmentExpiresOlderSessions:
    def test_a_new_session_expires_the_older_open_one_first(
        self, api: Api, client: stripe.StripeClient
    ) -> None:
        api.groups("org-e", 2)
        first = api.client.post(
            "/api/organizers/org-e/enrollment", json={}, headers=bearer("org-e")
        )
        assert first.status_code == 201, first.text
        api.groups("org-e", 1, prefix="h")  # the quantity changes: a new session
        second = api.client.post(
            "/api/organizers/org-e/enrollment", json={}, headers=bearer("org-e")
        )
        assert second.status_code == 201, second.text
        old = first.json()["session_id"]
        assert second.json()["session_id"] != old
        assert client.v1.checkout.sessions.retrieve(old).status == "expired"
        expire = requests(api, "POST", f"/v1/checkout/sessions/{old}/expire")
        assert len(expire) == 1

    def test_the_double_refuses_to_expire_a_session_that_is_not_open(
        self, api: Api, client: stripe.StripeClient
    ) -> None:
        api.groups("org-e", 1)
        opened = api.client.post(
            "/api/organizers/org-e/enrollment", json={}, headers=bearer("org-e")
        ).json()
        client.v1.checkout.sessions.expire(opened["session_id"])
        with pytest.raises(stripe.InvalidRequestError) as refused:
            client.v1.checkout.sessions.expire(opened["session_id"])
        assert refused.value.http_status == 400
        assert "can be expired" in str(refused.value.user_message)


def enroll_over_http(api: Api, organizer_id: str) -> dict[str, Any]:
    response = api.client.post(
        f"/api/organizers/{organizer_id}/enrollment", json={}, headers=bearer(organizer_id)
    )
    assert response.status_code in (200, 201), response.text
    opened: dict[str, Any] = response.json()
    return opened


def open_elsewhere(api: Api, client: stripe.StripeClient, organizer_id: str) -> str:
    """A session for the organizer's customer the ledger never opened (the Dashboard)."""
    customer = api.container.ledger.get(organizer_id).stripe_customer_id
    price = api.container.settings.stripe_price_id
    assert customer is not None
    assert price is not None
    session = client.v1.checkout.sessions.create(
        params={
            "mode": "subscription",
            "customer": customer,
            "line_items": [{"price": price, "quantity": 7}],
            "success_url": "https://dashboard.example/done",
        }
    )
    return str(session.id)


class TestEnrollmentExpiresEveryOtherOpenSession:
    def test_a_session_opened_outside_the_ledger_is_expired_when_it_opens_one(
        self, api: Api, client: stripe.StripeClient
    ) -> None:
        api.groups("org-f", 1)
        first = enroll_over_http(api, "org-f")["session_id"]
        elsewhere = open_elsewhere(api, client, "org-f")
        api.groups("org-f", 1, prefix="h")  # the quantity changes: a new session
        second = enroll_over_http(api, "org-f")
        assert second["reused"] is False
        for old in (first, elsewhere):
            assert client.v1.checkout.sessions.retrieve(old).status == "expired"
        assert client.v1.checkout.sessions.retrieve(second["session_id"]).status == "open"
        listed = [
            r["params"]
            for r in requests(api, "GET", "/v1/checkout/sessions")
            if r["path"] == "/v1/checkout/sessions"
        ]
        assert listed[-1] == {
            "customer": api.container.ledger.get("org-f").stripe_customer_id,
            "status": "open",
            "limit": "100",
        }

    def test_the_reused_session_is_kept_and_the_others_expired(
        self, api: Api, client: stripe.StripeClient
    ) -> None:
        api.groups("org-f", 2)
        first = enroll_over_http(api, "org-f")
        elsewhere = open_elsewhere(api, client, "org-f")
        again = enroll_over_http(api, "org-f")
        assert (again["reused"], again["session_id"]) == (True, first["session_id"])
        assert client.v1.checkout.sessions.retrieve(first["session_id"]).status == "open"
        assert client.v1.checkout.sessions.retrieve(elsewhere).status == "expired"
        assert requests(api, "POST", f"/v1/checkout/sessions/{first['session_id']}/expire") == []

    def test_every_page_of_open_sessions_is_expired(
        self, api: Api, client: stripe.StripeClient
    ) -> None:
        gateway = api.container.gateway
        assert gateway is not None
        gateway.page_size = 2
        api.groups("org-f", 1)
        enroll_over_http(api, "org-f")
        elsewhere = [open_elsewhere(api, client, "org-f") for _ in range(4)]
        api.groups("org-f", 1, prefix="h")
        opened = enroll_over_http(api, "org-f")
        customer = api.container.ledger.get("org-f").stripe_customer_id
        assert customer is not None
        still_open = client.v1.checkout.sessions.list(
            params={"customer": customer, "status": "open", "limit": 100}
        )
        assert [s.id for s in still_open.data] == [opened["session_id"]]
        assert all(client.v1.checkout.sessions.retrieve(s).status == "expired" for s in elsewhere)
        pages = [
            r["params"].get("starting_after")
            for r in requests(api, "GET", "/v1/checkout/sessions")
            if r["path"] == "/v1/checkout/sessions" and r["params"].get("limit") == "2"
        ]
        assert pages[-3:] == [None, elsewhere[-2], elsewhere[0]]  # 5 open: 3 pages

    def test_a_stray_session_changes_the_key_so_stripe_cannot_replay_it(
        self, api: Api, client: stripe.StripeClient
    ) -> None:
        api.groups("org-f", 1)
        first = enroll_over_http(api, "org-f")["session_id"]
        open_elsewhere(api, client, "org-f")
        api.groups("org-f", 1, prefix="h")
        enroll_over_http(api, "org-f")
        keys = [
            r["idempotency_key"]
            for r in requests(api, "POST", "/v1/checkout/sessions")
            if r["path"] == "/v1/checkout/sessions" and r["idempotency_key"]
        ]
        uuid_hex = api.container.ledger.register_organizer("org-f").hex
        assert keys[0] == checkout_key(uuid_hex, 1, 1)
        assert keys[-1] != checkout_key(uuid_hex, 2, 2)
        assert keys[-1].startswith(checkout_key(uuid_hex, 2, 2) + "-r")
        assert client.v1.checkout.sessions.retrieve(first).status == "expired"

    def test_a_reused_session_expired_in_the_dashboard_is_replaced(
        self, api: Api, client: stripe.StripeClient
    ) -> None:
        api.groups("org-f", 1)
        first = enroll_over_http(api, "org-f")["session_id"]
        client.v1.checkout.sessions.expire(first)
        again = enroll_over_http(api, "org-f")
        assert again["reused"] is False
        assert again["session_id"] != first

    def test_a_session_paid_before_the_ledger_heard_of_it_refuses_enrolling(
        self, api: Api, client: stripe.StripeClient
    ) -> None:
        api.groups("org-f", 1)
        first = enroll_over_http(api, "org-f")["session_id"]
        paid = api.admin.post(f"/_double/checkout/{first}")
        assert paid.status_code == 303, paid.text  # to the success URL
        assert client.v1.checkout.sessions.retrieve(first).status == "complete"
        response = api.client.post(
            "/api/organizers/org-f/enrollment", json={}, headers=bearer("org-f")
        )
        assert response.status_code == 409, response.text


class TestSubscriptionSchedule:
    def test_a_subscription_a_schedule_owns_gets_no_sync_and_the_reason_is_recorded(
        self, api: Api, client: stripe.StripeClient
    ) -> None:
        api.groups("org-s", 4)
        customer = str(client.v1.customers.create(params={"email": "s@example.com"}).id)
        sub = subscribe(api, client, customer, 1)
        schedule = client.v1.subscription_schedules.create(params={"from_subscription": sub})
        assert schedule.subscription == sub
        enroll(api, "org-s", sub)
        organizer = api.container.ledger.get("org-s")
        snapshot = organizer.subscription_snapshot
        assert snapshot is not None
        assert snapshot.schedule_id == schedule.id

        def checked(org: Organizer, at: Any) -> CheckOutcome | None:
            return org.check_renewal_quantity(
                trigger=SyncTrigger.DRIFT,
                cause="test",
                period_end=snapshot.current_period_end,
                policy=ProrationPolicy.NONE,
                minimum=1,
                at=at,
            )

        assert api.container.ledger.update("org-s", checked) is CheckOutcome.SKIPPED
        [check] = [
            e
            for e in api.container.ledger.events.get(organizer.id)
            if isinstance(e, Organizer.RenewalQuantityChecked)
        ]
        assert f"schedule {schedule.id}" in check.reason
        assert api.container.ledger.get("org-s").syncs == {}

    def test_releasing_the_schedule_clears_it_on_the_subscription(
        self, api: Api, client: stripe.StripeClient
    ) -> None:
        customer = str(client.v1.customers.create(params={"email": "r@example.com"}).id)
        sub = subscribe(api, client, customer, 1)
        schedule = client.v1.subscription_schedules.create(params={"from_subscription": sub})
        with pytest.raises(stripe.InvalidRequestError):
            client.v1.subscription_schedules.create(params={"from_subscription": sub})
        client.v1.subscription_schedules.release(schedule.id)
        gateway = api.container.gateway
        assert gateway is not None
        read = read_subscription(gateway.subscription(sub), observed_at=api.clock.now)
        assert read is not None
        assert read.snapshot.schedule_id is None
