"""``POST /internal/group-changes`` over HTTP, on a SQLite file and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import pytest
from starlette.testclient import TestClient

from app.bootstrap import Container, bootstrap
from app.entrypoints.http.web import create_app
from app.services.claims import Claims
from app.services.intake.group_changes import process_batch
from app.settings import load_settings
from domain.organizer import Organizer
from tests.support.clock import SteppingClock

T = TypeVar("T")
TOKEN = "t" * 20
AUTH = {"Authorization": f"Bearer {TOKEN}"}
T0 = datetime(2025, 12, 1, tzinfo=UTC)
URL = "/internal/group-changes"


def change(
    change_id: str,
    group_id: str = "g1",
    *,
    organizer_id: str = "org-1",
    action: str = "activated",
    minute: int = 0,
    **overrides: Any,
) -> dict[str, Any]:
    occurred_at = (T0 + timedelta(minutes=minute)).isoformat().replace("+00:00", "Z")
    body = {
        "change_id": change_id,
        "organizer_id": organizer_id,
        "group_id": group_id,
        "action": action,
        "occurred_at": occurred_at,
    }
    return body | overrides


def make_container(database_url: str, clock: SteppingClock, *, migrate: bool = True) -> Container:
    settings = load_settings(database_url=database_url, service_token=TOKEN, snapshot_interval=100)
    built = bootstrap(settings, clock=clock, embedded_migrate=False)
    if migrate:
        built.migrate()
    return built


@pytest.fixture
def service(database_url: str, clock: SteppingClock) -> Iterator[Container]:
    """A migrated store whose settings carry a service token."""
    built = make_container(database_url, clock)
    try:
        yield built
    finally:
        built.close()


@pytest.fixture
def client(service: Container) -> Iterator[TestClient]:
    with TestClient(create_app(service)) as test_client:
        yield test_client


def post(client: TestClient, changes: list[Any]) -> dict[str, Any]:
    response = client.post(URL, json={"changes": changes}, headers=AUTH)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def outcomes(body: dict[str, Any]) -> list[str]:
    return [result["outcome"] for result in body["results"]]


class TestAuthentication:
    @pytest.mark.parametrize(
        "headers",
        [{}, {"Authorization": "Bearer " + "x" * 20}, {"Authorization": f"Basic {TOKEN}"}],
        ids=["missing", "wrong", "not-bearer"],
    )
    def test_without_the_service_token_it_is_401_and_nothing_is_recorded(
        self, client: TestClient, service: Container, headers: dict[str, str]
    ) -> None:
        response = client.post(URL, json={"changes": [change("c1")]}, headers=headers)
        assert response.status_code == 401
        assert response.headers["content-type"] == "application/problem+json"
        assert "Bearer" in response.headers["www-authenticate"]
        assert service.ledger.find("org-1") is None

    def test_without_a_configured_token_every_request_is_401(
        self, database_url: str, clock: SteppingClock
    ) -> None:
        settings = load_settings(database_url=database_url)
        built = bootstrap(settings, clock=clock, embedded_migrate=False)
        built.migrate()
        try:
            with TestClient(create_app(built)) as client:
                response = client.post(URL, json={"changes": []}, headers=AUTH)
            assert response.status_code == 401
        finally:
            built.close()


class TestOutcomes:
    def test_a_new_change_is_applied_and_registers_an_unknown_organizer(
        self, client: TestClient, service: Container
    ) -> None:
        assert service.ledger.find("org-new") is None
        body = post(client, [change("c1", organizer_id="org-new")])
        assert body["results"] == [{"index": 0, "change_id": "c1", "outcome": "applied"}]
        assert service.ledger.get("org-new").active_group_ids == ["g1"]

    def test_a_change_id_seen_before_is_a_duplicate(self, client: TestClient) -> None:
        post(client, [change("c1")])
        assert outcomes(post(client, [change("c1", "g2")])) == ["duplicate"]

    def test_a_change_older_than_the_groups_newest_is_stale(
        self, client: TestClient, service: Container
    ) -> None:
        post(client, [change("c2", action="deactivated", minute=10)])
        body = post(client, [change("c1", minute=5)])
        assert outcomes(body) == ["stale"]
        assert service.ledger.get("org-1").active_group_ids == []

    def test_a_reaffirmation_is_reported_as_applied_with_its_effect(
        self, client: TestClient, service: Container
    ) -> None:
        body = post(client, [change("c1"), change("c2", minute=1)])
        assert body["results"][1] == {
            "index": 1,
            "change_id": "c2",
            "outcome": "applied",
            "effect": "reaffirmed",
        }
        # The watermark moved: an older opposite change is now stale.
        assert outcomes(post(client, [change("c3", action="deactivated", minute=0)])) == ["stale"]
        assert service.ledger.get("org-1").active_group_ids == ["g1"]

    def test_the_same_batch_twice_is_all_duplicates(self, client: TestClient) -> None:
        batch = [change(f"c{i}", f"g{i}", organizer_id=f"org-{i % 2}") for i in range(6)]
        assert set(outcomes(post(client, batch))) == {"applied"}
        second = post(client, batch)
        assert outcomes(second) == ["duplicate"] * 6
        assert second["summary"] == {"applied": 0, "duplicate": 6, "stale": 0, "rejected": 0}

    def test_results_and_summary_follow_request_order(self, client: TestClient) -> None:
        batch = [
            change("c1", organizer_id="org-a"),
            change("c2", organizer_id="org-b"),
            change("c1", organizer_id="org-a"),
            {"nope": True},
            change("c3", organizer_id="org-b", minute=-1, action="deactivated", group_id="g1"),
        ]
        body = post(client, batch)
        assert [r["index"] for r in body["results"]] == [0, 1, 2, 3, 4]
        assert outcomes(body) == ["applied", "applied", "duplicate", "rejected", "stale"]
        assert body["summary"] == {"applied": 2, "duplicate": 1, "stale": 1, "rejected": 1}


class TestRejectedItems:
    @pytest.mark.parametrize(
        ("overrides", "field"),
        [
            ({"change_id": None}, "change_id"),
            ({"organizer_id": 42}, "organizer_id"),
            ({"group_id": "   "}, "group_id"),
            ({"group_id": "g" * 201}, "group_id"),
            ({"change_id": ""}, "change_id"),
            ({"action": "archived"}, "action"),
            ({"occurred_at": "2025-12-01T00:00:00"}, "occurred_at"),
            ({"occurred_at": "yesterday"}, "occurred_at"),
            ({"occurred_at": 1764547200}, "occurred_at"),
            ({"group_id": "g\x00"}, "group_id"),
            ({"change_id": "c\n1"}, "change_id"),
            ({"organizer_id": "org\x7f"}, "organizer_id"),
            ({"occurred_at": "0001-01-01T00:00:00+14:00"}, "occurred_at"),
            ({"occurred_at": "9999-12-31T23:59:59-14:00"}, "occurred_at"),
            ({"occurred_at": "1969-07-20T20:17:00Z"}, "occurred_at"),
        ],
    )
    def test_a_bad_field_is_rejected_with_a_reason_naming_it(
        self, client: TestClient, overrides: dict[str, Any], field: str
    ) -> None:
        body = post(client, [change("c1") | overrides])
        (result,) = body["results"]
        assert result["outcome"] == "rejected"
        assert result["reason"].startswith(f"{field}:")

    def test_a_missing_field_is_named(self, client: TestClient) -> None:
        item = change("c1")
        del item["group_id"]
        (result,) = post(client, [item])["results"]
        assert result == {
            "index": 0,
            "change_id": "c1",
            "outcome": "rejected",
            "reason": "group_id: Field required",
        }

    def test_an_item_that_is_not_an_object_is_rejected(self, client: TestClient) -> None:
        (result,) = post(client, [["c1"]])["results"]
        assert result["outcome"] == "rejected"
        assert result["change_id"] is None

    def test_rejected_items_never_block_or_half_apply_the_others(
        self, client: TestClient, service: Container
    ) -> None:
        batch = [
            change("c1", "g1"),
            change("c2", "g2", occurred_at="2025-12-01T00:00:00"),
            change("c3", "g3"),
        ]
        assert outcomes(post(client, batch)) == ["applied", "rejected", "applied"]
        organizer = service.ledger.get("org-1")
        assert organizer.active_group_ids == ["g1", "g3"]
        assert "c2" not in organizer.change_outcomes

    def test_an_item_no_store_can_hold_fails_alone_and_the_batch_is_applied(
        self, client: TestClient, service: Container
    ) -> None:
        batch = [
            change("c1", "g1"),
            change("c2", "g\x00"),
            change("c3", "g3", occurred_at="0001-01-01T00:00:00+14:00"),
            change("c4", "g4"),
        ]
        assert outcomes(post(client, batch)) == ["applied", "rejected", "rejected", "applied"]
        assert service.ledger.get("org-1").active_group_ids == ["g1", "g4"]

    def test_a_change_more_than_five_minutes_ahead_of_the_clock_is_rejected(
        self, client: TestClient, clock: SteppingClock
    ) -> None:
        ahead = clock.now + timedelta(minutes=5, seconds=1)
        within = clock.now + timedelta(minutes=4)
        body = post(
            client,
            [
                change("c1", "g1", occurred_at=ahead.isoformat()),
                change("c2", "g2", occurred_at=within.isoformat()),
            ],
        )
        assert body["results"][0]["reason"] == "occurred_at is in the future"
        assert outcomes(body) == ["rejected", "applied"]

    def test_a_rejected_change_id_can_be_sent_again_corrected(self, client: TestClient) -> None:
        assert outcomes(post(client, [change("c1", action="on")])) == ["rejected"]
        assert outcomes(post(client, [change("c1")])) == ["applied"]


class TestRequestShape:
    def test_a_body_that_is_not_json_is_400(self, client: TestClient) -> None:
        response = client.post(URL, content=b"{not json", headers=AUTH)
        assert response.status_code == 400
        assert response.headers["content-type"] == "application/problem+json"

    @pytest.mark.parametrize(
        "body", [{}, {"changes": {"change_id": "c1"}}, [], {"change": []}], ids=repr
    )
    def test_json_without_a_changes_array_is_400_naming_the_field(
        self, client: TestClient, body: Any
    ) -> None:
        response = client.post(URL, json=body, headers=AUTH)
        assert response.status_code == 400
        problem = response.json()
        assert "changes" in problem["detail"]
        assert problem["invalid_params"] == [{"name": "changes", "reason": "must be an array"}]

    def test_an_empty_batch_is_fine(self, client: TestClient) -> None:
        assert post(client, [])["summary"] == dict.fromkeys(
            ("applied", "duplicate", "stale", "rejected"), 0
        )

    def test_more_than_1000_changes_is_413_and_nothing_is_recorded(
        self, client: TestClient, service: Container
    ) -> None:
        batch = [change(f"c{i}", f"g{i}") for i in range(1001)]
        response = client.post(URL, json={"changes": batch}, headers=AUTH)
        assert response.status_code == 413
        assert service.ledger.find("org-1") is None

    def test_exactly_1000_changes_are_accepted(self, client: TestClient) -> None:
        batch = [change(f"c{i}", f"g{i % 50}", minute=i) for i in range(1000)]
        assert post(client, batch)["summary"]["applied"] == 1000

    def test_a_body_over_the_size_cap_is_413(self, client: TestClient) -> None:
        padding = "x" * (3 * 1024 * 1024)
        response = client.post(URL, json={"changes": [], "padding": padding}, headers=AUTH)
        assert response.status_code == 413

    def test_an_unmigrated_store_is_503(self, database_url: str, clock: SteppingClock) -> None:
        built = make_container(database_url, clock, migrate=False)
        try:
            with TestClient(create_app(built)) as client:
                response = client.post(URL, json={"changes": [change("c1")]}, headers=AUTH)
            assert response.status_code == 503
            assert response.headers["content-type"] == "application/problem+json"
        finally:
            built.close()


class CountingLedger:
    """The real ledger, counting ``update`` calls and decisions (loads) per organizer."""

    def __init__(self, container: Container) -> None:
        self.ledger = container.ledger
        self.updates: dict[str, int] = {}
        self.loads: dict[str, int] = {}

    @property
    def clock(self) -> Callable[[], datetime]:
        return self.ledger.clock

    def update_claiming(
        self,
        platform_organizer_id: str,
        decide: Callable[[Organizer, datetime, Claims], T],
        *,
        register: bool = False,
    ) -> T:
        self.updates[platform_organizer_id] = self.updates.get(platform_organizer_id, 0) + 1

        def counted(organizer: Organizer, at: datetime, claims: Claims) -> T:
            self.loads[platform_organizer_id] = self.loads.get(platform_organizer_id, 0) + 1
            return decide(organizer, at, claims)

        return self.ledger.update_claiming(platform_organizer_id, counted, register=register)


class TestOneLoadOneSavePerOrganizer:
    def test_the_version_grows_by_exactly_the_recorded_events(
        self, client: TestClient, service: Container
    ) -> None:
        post(client, [change("c0", organizer_id="org-a")])
        before = service.ledger.get("org-a").version
        batch = [
            change("c1", "g2", organizer_id="org-a", minute=1),
            change("c2", "g3", organizer_id="org-b"),
            change("c0", organizer_id="org-a"),  # duplicate: records nothing
            change("c3", "g2", organizer_id="org-a", minute=0, action="deactivated"),  # stale
            change("c4", "g1", organizer_id="org-a", minute=2),  # reaffirmed
            change("c5", organizer_id="org-a", action="bad"),  # rejected
        ]
        body = post(client, batch)
        assert outcomes(body) == ["applied", "applied", "duplicate", "stale", "applied", "rejected"]
        # applied, stale and reaffirmed each record one event; duplicate and rejected none.
        assert service.ledger.get("org-a").version == before + 3
        assert service.ledger.get("org-b").version == 2  # registered + one change

    def test_each_organizer_is_loaded_and_saved_once_per_batch(self, service: Container) -> None:
        counting = CountingLedger(service)
        batch = [change(f"c{i}", f"g{i}", organizer_id=f"org-{i % 3}") for i in range(12)]
        results = process_batch(counting, batch)
        assert [r.index for r in results] == list(range(12))
        assert counting.updates == {"org-0": 1, "org-1": 1, "org-2": 1}
        assert counting.loads == {"org-0": 1, "org-1": 1, "org-2": 1}
        assert service.ledger.get("org-0").active_group_ids == ["g0", "g3", "g6", "g9"]
