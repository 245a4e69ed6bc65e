"""``GET /api/organizers/{id}/state[?as_of=]`` over HTTP on both stores: time travel."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any

import pytest
from starlette.testclient import TestClient

from app.bootstrap import Container, bootstrap
from app.entrypoints.http.web import create_app
from app.services.organizers.state import OrganizerState
from app.settings import load_settings
from domain.billing import SubscriptionSnapshot
from domain.groups import GroupAction
from domain.organizer import Organizer, organizer_uuid
from tests.support.api import TOKEN_SECRET, bearer
from tests.support.clock import SteppingClock

AUTH = bearer("staff", "finance")
ORG = "org-time"
URL = f"/api/organizers/{ORG}/state"


def z(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


@dataclass
class Timeline:
    """What the organizer's active groups were from each recorded instant on."""

    registered_at: datetime
    active_from: list[tuple[datetime, list[str]]]
    subscribed_at: datetime


def observe(organizer: Organizer, at: datetime, *, snapshot: SubscriptionSnapshot) -> bool:
    return organizer.observe_subscription(snapshot, source="evt_sub_1", at=at)


def build_history(container: Container, clock: SteppingClock) -> Timeline:
    """An hour between facts: groups come and go, then Stripe reports a subscription."""
    ledger = container.ledger
    active: set[str] = set()
    steps: list[tuple[datetime, list[str]]] = []
    registered_at = clock.advance(timedelta(hours=1))
    for number in range(14):  # enough events for snapshots (every 5 versions)
        at = clock.now
        action = GroupAction.DEACTIVATED if number % 4 == 3 else GroupAction.ACTIVATED
        group = f"g{number % 5}"
        ledger.change_group(
            ORG, action=action, group_id=group, change_id=f"c{number}", occurred_at=at
        )
        (active.discard if action is GroupAction.DEACTIVATED else active.add)(group)
        steps.append((at, sorted(active)))
        clock.advance(timedelta(hours=1))
    subscribed_at = clock.now
    snapshot = SubscriptionSnapshot(
        subscription_id="sub_1",
        item_id="si_1",
        price_id="price_group",
        status="active",
        quantity=3,
        current_period_start=subscribed_at,
        current_period_end=subscribed_at + timedelta(days=30),
        observed_at=subscribed_at,
    )
    ledger.update(ORG, partial(observe, snapshot=snapshot))
    clock.advance(timedelta(hours=1))
    return Timeline(registered_at, steps, subscribed_at)


@pytest.fixture
def service(database_url: str, clock: SteppingClock) -> Iterator[tuple[TestClient, Container]]:
    settings = load_settings(
        database_url=database_url, token_secret=TOKEN_SECRET, snapshot_interval=5
    )
    container = bootstrap(settings, clock=clock, embedded_migrate=False)
    container.migrate()
    with TestClient(create_app(container)) as client:
        yield client, container


@pytest.fixture
def history(
    service: tuple[TestClient, Container], clock: SteppingClock
) -> tuple[TestClient, Container, Timeline]:
    client, container = service
    return client, container, build_history(container, clock)


def state(client: TestClient, as_of: str | None = None) -> Any:
    params = {} if as_of is None else {"as_of": as_of}
    response = client.get(URL, params=params, headers=AUTH)
    assert response.status_code == 200, response.text
    return response.json()


def expected(container: Container, as_of: datetime) -> Any:
    organizer = container.ledger.get_as_of(ORG, as_of)
    assert organizer is not None
    return OrganizerState.of(organizer, minimum_quantity=1, as_of=as_of).model_dump(mode="json")


class TestAsOf:
    def test_each_instant_shows_the_groups_active_then(
        self, history: tuple[TestClient, Container, Timeline]
    ) -> None:
        client, container, timeline = history
        for at, active in timeline.active_from:
            for moment in (at, at + timedelta(minutes=59)):
                body = state(client, z(moment))
                assert body["active_group_ids"] == active
                assert body["active_group_count"] == len(active)
                assert body["billable_quantity"] == max(len(active), 1)
                assert body == expected(container, moment)

    def test_the_state_is_rebuilt_past_snapshots(
        self, history: tuple[TestClient, Container, Timeline]
    ) -> None:
        client, container, timeline = history
        snapshots = list(container.ledger.snapshots.get(organizer_uuid(ORG)))  # type: ignore[union-attr]
        assert snapshots, "the history is long enough to be snapshotted"
        at, active = timeline.active_from[7]
        body = state(client, z(at))
        assert body["version"] > snapshots[0].originator_version
        assert body["active_group_ids"] == active

    def test_stripe_facts_appear_from_the_instant_they_were_recorded(
        self, history: tuple[TestClient, Container, Timeline]
    ) -> None:
        client, _, timeline = history
        before = state(client, z(timeline.subscribed_at - timedelta(seconds=1)))
        after = state(client, z(timeline.subscribed_at))
        assert before["stripe"]["subscription_id"] is None
        assert after["stripe"]["subscription_id"] == "sub_1"
        assert after["stripe"]["status"] == "active"
        assert after["stripe"]["billed_quantity"] == 3
        assert after["stripe"]["current_period_start"] == z(timeline.subscribed_at)

    def test_an_offset_instant_means_the_same_moment(
        self, history: tuple[TestClient, Container, Timeline]
    ) -> None:
        client, _, timeline = history
        at, _ = timeline.active_from[3]
        shifted = at.astimezone(datetime.fromisoformat("2026-01-01T00:00+05:30").tzinfo)
        assert state(client, shifted.isoformat()) == state(client, z(at))

    def test_without_as_of_the_current_state_is_returned(
        self, history: tuple[TestClient, Container, Timeline]
    ) -> None:
        client, container, timeline = history
        body = state(client)
        assert body["as_of"] is None
        assert body["active_group_ids"] == timeline.active_from[-1][1]
        assert body["version"] == container.ledger.get(ORG).version
        assert body["stripe"]["subscription_id"] == "sub_1"

    def test_an_instant_after_the_last_event_equals_the_current_state(
        self, history: tuple[TestClient, Container, Timeline]
    ) -> None:
        client, _, _ = history
        later = state(client, "2030-01-01T00:00:00Z")
        assert later["as_of"] == "2030-01-01T00:00:00Z"
        assert {**later, "as_of": None} == state(client)


class TestNotFound:
    def test_before_registration_the_organizer_is_not_found(
        self, history: tuple[TestClient, Container, Timeline]
    ) -> None:
        client, _, timeline = history
        moment = z(timeline.registered_at - timedelta(microseconds=1))
        response = client.get(URL, params={"as_of": moment}, headers=AUTH)
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["type"].endswith("/organizer-not-found")

    def test_at_the_instant_of_registration_it_exists(
        self, history: tuple[TestClient, Container, Timeline]
    ) -> None:
        client, _, timeline = history
        assert state(client, z(timeline.registered_at))["active_group_ids"] == ["g0"]

    @pytest.mark.parametrize("as_of", [None, "2026-06-01T00:00:00Z"])
    def test_an_unknown_organizer_is_not_found(
        self, service: tuple[TestClient, Container], as_of: str | None
    ) -> None:
        client, _ = service
        params = {} if as_of is None else {"as_of": as_of}
        response = client.get("/api/organizers/nobody/state", params=params, headers=AUTH)
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/problem+json"
        assert "nobody" in response.json()["detail"]


class TestRequests:
    @pytest.mark.parametrize("as_of", ["soon", "2026-01-01T10:00:00", "2026-02-30T00:00:00Z"])
    def test_a_bad_as_of_is_a_400_naming_as_of(
        self, service: tuple[TestClient, Container], as_of: str
    ) -> None:
        client, _ = service
        response = client.get(URL, params={"as_of": as_of}, headers=AUTH)
        assert response.status_code == 400
        assert response.headers["content-type"] == "application/problem+json"
        problem = response.json()
        assert problem["invalid_params"][0]["name"] == "as_of"
        assert "`as_of`" in problem["detail"]

    def test_without_a_valid_token_the_state_is_refused(
        self, service: tuple[TestClient, Container]
    ) -> None:
        client, _ = service
        assert client.get(URL).status_code == 401
        assert client.get(URL, headers={"Authorization": "Bearer nope"}).status_code == 401
