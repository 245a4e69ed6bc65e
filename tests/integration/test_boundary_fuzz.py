"""Fuzzing the outside boundaries (Hypothesis, derandomized in CI): whatever arrives, no
5xx, nothing lost, and the worker keeps processing other organizers' inputs.

Webhook payloads are real deliveries with one value anywhere in them replaced by
something hostile (control characters, 64-bit+ integers, floats, wrong types); group
changes, query parameters and token claims are drawn the same way.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import itertools
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from adapters.persistence.inbox import StripeInbox
from adapters.stripe.translate import TranslationError, translate
from app.bootstrap import Container, bootstrap
from app.entrypoints.http.problems import Problem
from app.entrypoints.http.web import create_app
from app.services.intake.stripe_inbox import InboxProcessor
from app.settings import load_settings
from tests.support.api import SERVICE_TOKEN, TOKEN_SECRET, bearer
from tests.support.inbox import deliver
from tests.support.stripe_payloads import (
    checkout_event,
    customer_deleted_event,
    invoice_event,
    subscription_event,
    upcoming_event,
)

FUZZ = settings(
    max_examples=60, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck)
)
HOSTILE_TEXT = st.one_of(
    st.text(max_size=20),
    st.text(alphabet=st.characters(codec="utf-8", categories=["Cc", "Cf", "Zl", "Zp"])),
    st.just("x" * 300),
    st.just("\x00"),
)
HOSTILE = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**64), max_value=2**64 - 1),
    st.sampled_from([2**31, 2**53 + 1, 2**63, 2**64 - 1, 10**15, -1, 0]),
    st.floats(allow_nan=False, allow_infinity=False),
    HOSTILE_TEXT,
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)
BUILDERS: list[Callable[[], dict[str, Any]]] = [
    lambda: subscription_event("basil"),
    lambda: subscription_event("legacy"),
    lambda: invoice_event("basil"),
    lambda: invoice_event("legacy", "invoice.created"),
    lambda: upcoming_event("basil"),
    lambda: checkout_event("legacy"),
    lambda: customer_deleted_event("basil"),
]


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every path to a value inside a JSON document (not the envelope's id)."""
    if isinstance(value, dict):
        for key, child in value.items():
            yield (*prefix, key)
            yield from paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield (*prefix, index)
            yield from paths(child, (*prefix, index))


@st.composite
def hostile_deliveries(draw: st.DrawFn) -> dict[str, Any]:
    event = copy.deepcopy(draw(st.sampled_from(BUILDERS))())
    candidates = [p for p in paths(event["data"]) if p]
    path = ("data", *draw(st.sampled_from(candidates)))
    holder: Any = event
    for step in path[:-1]:
        holder = holder[step]
    holder[path[-1]] = draw(HOSTILE)
    mutated: dict[str, Any] = event
    return mutated


class TestWebhookPayloads:
    @FUZZ
    @given(hostile_deliveries())
    def test_translation_either_translates_or_names_what_is_wrong(
        self, event: dict[str, Any]
    ) -> None:
        # Any other exception fails the test: it would cost the row attempts, then a
        # quarantine, where a TranslationError marks it failed at once with its field.
        with contextlib.suppress(TranslationError):
            translate(event)

    @FUZZ
    @given(st.lists(hostile_deliveries(), min_size=1, max_size=3))
    def test_the_worker_settles_every_delivery_and_still_processes_the_others(
        self, inbox_store: Container, events: list[dict[str, Any]]
    ) -> None:
        inbox = StripeInbox(inbox_store.database)
        run = next(RUNS)
        ids, refusals = [], []
        for number, event in enumerate(events):
            event["id"] = f"evt_fuzz_{run}_{number}"
            try:
                deliver(inbox, event)
            except Problem as refused:  # the webhook route's 400: never stored, by design
                refusals.append(refused.status)
                continue
            ids.append(event["id"])
        good = checkout_event(
            "basil",
            event_id=f"evt_good_{run}",
            client_reference_id=f"org-good-{run}",
            customer=f"cus_good_{run}",
        )
        assert set(refusals) <= {400}
        deliver(inbox, good)
        processor = InboxProcessor(inbox_store.ledger, inbox)
        while processor.process_pending():
            pass
        for event_id in ids:
            row = inbox.get(event_id)
            assert row is not None, "a delivery was lost"
            assert row.status in ("processed", "ignored", "parked", "failed")
        settled = inbox.get(good["id"])
        assert settled is not None
        assert settled.status == "processed"
        assert inbox_store.ledger.get(f"org-good-{run}").stripe_customer_id == f"cus_good_{run}"


RUNS = itertools.count()


@pytest.fixture(scope="module")
def inbox_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Container]:
    folder: Path = tmp_path_factory.mktemp("fuzz")
    container = bootstrap(
        load_settings(
            database_url=f"sqlite:///{folder / 'ledger.sqlite3'}",
            token_secret=TOKEN_SECRET,
            service_token=SERVICE_TOKEN,
            stripe_webhook_secret="whsec_fuzz_000000000000000000",
        )
    )
    yield container
    container.close()


@pytest.fixture(scope="module")
def client(inbox_store: Container) -> Iterator[TestClient]:
    with TestClient(create_app(inbox_store), raise_server_exceptions=False) as test_client:
        yield test_client


ITEM = st.fixed_dictionaries(
    {
        "change_id": st.one_of(HOSTILE_TEXT, HOSTILE),
        "organizer_id": st.one_of(st.sampled_from(["org-f1", "org-f2"]), HOSTILE),
        "group_id": st.one_of(st.sampled_from(["g1", "g2"]), HOSTILE),
        "action": st.one_of(st.sampled_from(["activated", "deactivated"]), HOSTILE),
        "occurred_at": st.one_of(
            st.datetimes(timezones=st.timezones()).map(lambda d: d.isoformat()),
            st.sampled_from(["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"]),
            HOSTILE,
        ),
    }
)


class TestGroupChanges:
    @FUZZ
    @given(st.lists(st.one_of(ITEM, HOSTILE), min_size=1, max_size=5))
    def test_every_item_gets_an_outcome_and_a_valid_neighbour_is_applied(
        self, client: TestClient, items: list[Any]
    ) -> None:
        run = next(RUNS)
        good = {
            "change_id": f"good-{run}",
            "organizer_id": "org-neighbour",
            "group_id": f"g{run}",
            "action": "activated",
            "occurred_at": "2026-01-01T00:00:00Z",
        }
        response = client.post(
            "/internal/group-changes",
            json={"changes": [*items, good]},
            headers={"Authorization": f"Bearer {SERVICE_TOKEN}"},
        )
        assert response.status_code == 200, response.text
        results = response.json()["results"]
        assert len(results) == len(items) + 1
        assert {r["outcome"] for r in results} <= {"applied", "duplicate", "stale", "rejected"}
        assert results[-1]["outcome"] == "applied"


GET_ROUTES = {
    "/api/audit/entries": ("organizer_id", "from", "to", "cursor", "limit"),
    "/api/ops/sync-failures": ("include_retrying", "include_retried", "cursor", "limit"),
    "/api/ops/draft-mismatches": ("cursor", "limit"),
    "/api/ops/renewals-at-risk": ("cursor", "limit"),
    "/api/renewals": ("due_before", "drift"),
    "/api/organizers/org-f1/timeline": ("cursor", "limit"),
    "/api/organizers/org-f1/state": ("as_of",),
}
QUERY_TEXT = st.one_of(
    HOSTILE_TEXT,
    st.integers().map(str),
    st.just("9" * 5000),
    st.binary(max_size=12).map(lambda b: base64.urlsafe_b64encode(b).decode()),
)


class TestQueryParameters:
    @FUZZ
    @given(st.sampled_from(sorted(GET_ROUTES)), st.data())
    def test_no_query_is_a_server_error(
        self, client: TestClient, route: str, data: st.DataObject
    ) -> None:
        names = GET_ROUTES[route]
        chosen = data.draw(st.lists(st.sampled_from(names), unique=True, max_size=len(names)))
        params = {name: data.draw(QUERY_TEXT) for name in chosen}
        response = client.get(route, params=params, headers=bearer("staff", "ops"))
        assert response.status_code < 500, response.text
        if response.status_code >= 400:
            assert response.headers["content-type"] == "application/problem+json"


CLAIMS = st.dictionaries(
    st.sampled_from(["sub", "role", "exp", "nbf", "iat", "aud"]), HOSTILE, max_size=6
)


class TestTokens:
    @FUZZ
    @given(CLAIMS)
    def test_any_claims_are_a_401_a_403_or_accepted_never_a_500(
        self, client: TestClient, claims: dict[str, Any]
    ) -> None:
        payload = {"exp": int(time.time()) + 60, **claims}
        try:
            token = jwt.encode(payload, TOKEN_SECRET, algorithm="HS256")
        except (TypeError, ValueError, OverflowError):
            return  # not even encodable: no client could send it
        response = client.get("/api/renewals", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code in (200, 401, 403), response.text
