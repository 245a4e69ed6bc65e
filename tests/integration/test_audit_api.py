"""``GET /api/audit/entries`` over HTTP on both stores: auth, filters, cursor paging."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

import pytest
from starlette.testclient import TestClient

from app.bootstrap import Container, bootstrap
from app.entrypoints.http.web import create_app
from app.settings import load_settings
from domain.groups import GroupAction
from projections.runner import LogReader, build_read_models, catch_up
from tests.support.api import TOKEN_SECRET, bearer
from tests.support.clock import SteppingClock
from tests.support.histories import T0, seed_history
from tests.support.postgres import fresh_schema

AUTH = bearer("staff", "finance")
URL = "/api/audit/entries"
STORES = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
Entry = dict[str, Any]


def make_container(database_url: str, clock: SteppingClock) -> Container:
    settings = load_settings(
        database_url=database_url, token_secret=TOKEN_SECRET, snapshot_interval=5
    )
    built = bootstrap(settings, clock=clock, embedded_migrate=False)
    built.migrate()
    return built


def project(container: Container) -> None:
    catch_up(LogReader(container.ledger), build_read_models(container.database, minimum_quantity=1))


@contextmanager
def serving(database_url: str, clock: SteppingClock) -> Iterator[tuple[TestClient, Container]]:
    """A seeded, projected store behind the app; each clock read moves 20 seconds on."""
    clock.now, clock.step = T0, timedelta(seconds=20)
    container = make_container(database_url, clock)
    seed_history(container.ledger, organizers=4, steps=150)
    project(container)
    with TestClient(create_app(container)) as client:
        yield client, container


@pytest.fixture(scope="module", params=STORES)
def api(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[TestClient, Container]]:
    """One seeded store per backend, shared by the tests that only read it."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('audit') / 'ledger.sqlite3'}"
        with serving(url, SteppingClock()) as served:
            yield served
        return
    with (
        fresh_schema(request.getfixturevalue("postgres_url")) as url,
        serving(url, SteppingClock()) as served,
    ):
        yield served


@pytest.fixture
def fresh_api(database_url: str, clock: SteppingClock) -> Iterator[tuple[TestClient, Container]]:
    """A store of the test's own, for tests that append to it."""
    with serving(database_url, clock) as served:
        yield served


def stored(container: Container, where: str = "1 = 1", **params: str | int) -> list[Entry]:
    with container.database.transaction() as cursor:
        rows = cursor.execute(
            f"SELECT * FROM rm_audit_entries WHERE {where} ORDER BY position, seq", params
        ).fetchall()
    return [dict(row) for row in rows]


def keys(entries: list[Entry]) -> list[tuple[int, int]]:
    return [(int(e["position"]), int(e["seq"])) for e in entries]


def get(client: TestClient, **params: str | int) -> Any:
    response = client.get(URL, params=params, headers=AUTH)
    assert response.status_code == 200, response.text
    return response.json()


def every_page(client: TestClient, **params: str | int) -> Iterator[Any]:
    cursor = None
    while True:
        body = get(client, **params, **({} if cursor is None else {"cursor": cursor}))
        yield body
        cursor = body["next_cursor"]
        if cursor is None:
            return


def iso(moment: str) -> str:
    """Fixed-width stored text → an ISO 8601 instant a client would send."""
    return datetime.fromisoformat(moment).isoformat()


def assert_bad_parameter(response: Any, name: str) -> None:
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert [p["name"] for p in problem["invalid_params"]] == [name]
    assert f"`{name}`" in problem["detail"]


class TestServiceToken:
    def test_without_a_token_the_entries_are_refused(
        self, api: tuple[TestClient, Container]
    ) -> None:
        client, _ = api
        response = client.get(URL)
        assert response.status_code == 401
        assert response.headers["content-type"] == "application/problem+json"
        assert response.headers["www-authenticate"].startswith("Bearer")

    def test_a_wrong_token_is_refused_before_parameters_are_checked(
        self, api: tuple[TestClient, Container]
    ) -> None:
        client, _ = api
        response = client.get(
            URL, params={"cursor": "garbage"}, headers={"Authorization": "Bearer " + "x" * 22}
        )
        assert response.status_code == 401


class TestEntries:
    def test_every_column_is_present_with_details_parsed_and_amounts_as_integers(
        self, api: tuple[TestClient, Container]
    ) -> None:
        client, container = api
        entries = [e for page in every_page(client, limit=1000) for e in page["entries"]]
        rows = stored(container)
        assert keys(entries) == keys(rows)
        assert set(entries[0]) == set(rows[0])
        invoices = [e for e in entries if e["kind"] == "invoice_recorded"]
        assert invoices, "the seeded history records invoices"
        for entry in invoices:
            assert isinstance(entry["amount"], int)
            assert isinstance(entry["details"], dict)
            assert entry["details"]["tax"] == 95
        assert all(e["details"] is None or isinstance(e["details"], dict) for e in entries)

    def test_the_organizer_filter_returns_only_that_organizers_entries(
        self, api: tuple[TestClient, Container]
    ) -> None:
        client, container = api
        entries = get(client, organizer_id="org-2", limit=1000)["entries"]
        assert keys(entries) == keys(stored(container, "organizer_id = :o", o="org-2"))
        assert {e["organizer_id"] for e in entries} == {"org-2"}

    def test_the_time_range_is_half_open_on_recorded_at(
        self, api: tuple[TestClient, Container]
    ) -> None:
        client, container = api
        rows = stored(container)
        start, end = rows[10]["recorded_at"], rows[30]["recorded_at"]
        entries = get(client, limit=1000, **{"from": iso(start), "to": iso(end)})["entries"]
        expected = [r for r in rows if start <= r["recorded_at"] < end]
        assert keys(entries) == keys(expected)
        assert entries[0]["recorded_at"] == start  # `from` is included ...
        assert all(e["recorded_at"] != end for e in entries)  # ... `to` is not

    def test_an_offset_names_the_same_instant_as_utc(
        self, api: tuple[TestClient, Container]
    ) -> None:
        client, container = api
        start = datetime.fromisoformat(stored(container)[5]["recorded_at"])
        in_utc = get(client, limit=1000, **{"from": start.isoformat()})
        shifted = start.astimezone(datetime.fromisoformat("2026-01-01T00:00:00+02:00").tzinfo)
        assert get(client, limit=1000, **{"from": shifted.isoformat()}) == in_utc

    def test_empty_parameters_mean_no_filter(self, api: tuple[TestClient, Container]) -> None:
        client, _ = api
        assert get(client, organizer_id="", cursor="", limit=1000, **{"from": "", "to": ""}) == (
            get(client, limit=1000)
        )


class TestPaging:
    def test_pages_cover_every_entry_once_in_log_order(
        self, api: tuple[TestClient, Container]
    ) -> None:
        client, container = api
        pages = list(every_page(client, limit=7))
        seen = [e for page in pages for e in page["entries"]]
        assert keys(seen) == keys(stored(container))
        assert all(len(page["entries"]) == 7 for page in pages[:-1])
        assert 1 <= len(pages[-1]["entries"]) <= 7

    def test_the_default_page_is_100_entries(self, api: tuple[TestClient, Container]) -> None:
        client, container = api
        body = get(client)
        assert len(stored(container)) > 100
        assert len(body["entries"]) == 100
        assert body["next_cursor"] is not None

    def test_a_filtered_range_pages_like_the_whole_trail(
        self, api: tuple[TestClient, Container]
    ) -> None:
        client, container = api
        rows = stored(container, "organizer_id = :o", o="org-1")
        params: dict[str, str | int] = {
            "organizer_id": "org-1",
            "from": iso(rows[3]["recorded_at"]),
            "limit": 4,
        }
        seen = [e for page in every_page(client, **params) for e in page["entries"]]
        assert keys(seen) == keys(rows[3:])

    def test_entries_appended_between_pages_are_seen_exactly_once(
        self, fresh_api: tuple[TestClient, Container]
    ) -> None:
        client, container = fresh_api
        seen: list[Entry] = []
        for number, page in enumerate(every_page(client, limit=25)):
            seen.extend(page["entries"])
            if page["next_cursor"] is None:
                break
            # New facts land while the client is paging (as the worker would project them).
            container.ledger.change_group(
                f"org-new-{number % 2}",
                action=GroupAction.ACTIVATED,
                group_id=f"late-{number}",
                change_id=f"late-{number}",
                occurred_at=T0,
            )
            project(container)
        assert keys(seen) == keys(stored(container))
        assert len(set(keys(seen))) == len(seen)
        assert {e["group_id"] for e in seen} >= {"late-0", "late-1"}

    def test_the_last_page_has_no_next_cursor(self, api: tuple[TestClient, Container]) -> None:
        client, container = api
        total = len(stored(container))
        body = get(client, limit=1000)
        assert len(body["entries"]) == total
        assert body["next_cursor"] is None

    def test_a_filter_matching_nothing_is_an_empty_last_page(
        self, api: tuple[TestClient, Container]
    ) -> None:
        client, _ = api
        assert get(client, organizer_id="org-nobody") == {"entries": [], "next_cursor": None}


class TestBadParameters:
    @pytest.mark.parametrize(
        "cursor",
        [
            "garbage!",
            "bm90LWEtY3Vyc29y",  # "not-a-cursor"
            base64.urlsafe_b64encode(b"-1:0").decode(),
            base64.urlsafe_b64encode(b"12:0").decode(),  # padded: not one we hand out
            base64.urlsafe_b64encode(b"1:2:3").decode().rstrip("="),
            base64.urlsafe_b64encode(b"9" * 40 + b":0").decode().rstrip("="),
        ],
    )
    def test_a_cursor_this_api_did_not_hand_out_is_a_400_naming_cursor(
        self, api: tuple[TestClient, Container], cursor: str
    ) -> None:
        client, _ = api
        assert_bad_parameter(client.get(URL, params={"cursor": cursor}, headers=AUTH), "cursor")

    @pytest.mark.parametrize("name", ["from", "to"])
    @pytest.mark.parametrize("value", ["yesterday", "2026-03-01T00:00:00", "2026-13-01T00:00Z"])
    def test_a_bad_instant_is_a_400_naming_it(
        self, api: tuple[TestClient, Container], name: str, value: str
    ) -> None:
        client, _ = api
        assert_bad_parameter(client.get(URL, params={name: value}, headers=AUTH), name)

    def test_an_empty_or_inverted_range_is_a_400_naming_to(
        self, api: tuple[TestClient, Container]
    ) -> None:
        client, _ = api
        moment = "2026-03-01T00:10:00Z"
        response = client.get(URL, params={"from": moment, "to": moment}, headers=AUTH)
        assert_bad_parameter(response, "to")

    @pytest.mark.parametrize("limit", ["0", "1001", "-5", "ten", "2.5"])
    def test_a_limit_outside_1_to_1000_is_a_400_naming_limit(
        self, api: tuple[TestClient, Container], limit: str
    ) -> None:
        client, _ = api
        assert_bad_parameter(client.get(URL, params={"limit": limit}, headers=AUTH), "limit")
