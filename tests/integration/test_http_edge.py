"""The HTTP edge on both stores: every refusal is a clean 4xx problem document, every
response carries the security headers and a request id, and readiness means it."""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from pathlib import Path

import jwt
import orjson
import pytest
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.testclient import TestClient

from app.bootstrap import Container, bootstrap
from app.entrypoints.http.web import LedgerApp, create_app, on_unexpected
from app.settings import load_settings
from tests.support.api import SERVICE_TOKEN, TOKEN_SECRET, bearer
from tests.support.clock import SteppingClock
from tests.support.stripe_payloads import subscription_event
from tests.support.webhooks import SECRET, sign

STAFF = bearer("staff", "finance")
LISTS = [
    "/api/audit/entries",
    "/api/ops/sync-failures",
    "/api/ops/draft-mismatches",
    "/api/ops/renewals-at-risk",
    "/api/organizers/org-1/timeline",
]


@pytest.fixture
def edge(
    database_url: str, clock: SteppingClock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[TestClient, Container]]:
    dist = tmp_path / "dist"
    dist.mkdir()
    (dist / "index.html").write_text("<!doctype html><title>ledger</title>")
    monkeypatch.setenv("LEDGER_WEB_DIST", str(dist))
    container = bootstrap(
        load_settings(
            database_url=database_url,
            token_secret=TOKEN_SECRET,
            service_token=SERVICE_TOKEN,
            stripe_webhook_secret=SECRET,
            cors_origins="https://app.example",
        ),
        clock=clock,
        embedded_migrate=False,
    )
    container.migrate()
    container.ledger.register_organizer("org-1")
    with TestClient(create_app(container), raise_server_exceptions=False) as client:
        yield client, container
    container.close()


def assert_clean_problem(response: object, status: int) -> dict[str, object]:
    headers = getattr(response, "headers")  # noqa: B009
    assert getattr(response, "status_code") == status  # noqa: B009
    assert headers["content-type"] == "application/problem+json"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert "content-security-policy" in headers
    body: dict[str, object] = orjson.loads(getattr(response, "content"))  # noqa: B009
    assert body["status"] == status
    assert body["request_id"] == headers["x-request-id"]
    return body


class TestQueryParameters:
    @pytest.mark.parametrize("path", LISTS)
    @pytest.mark.parametrize("limit", ["9" * 5000, "²", "1" * 7, "-1", "0", "١٢"])
    def test_a_limit_that_is_no_page_size_is_a_400(
        self, edge: tuple[TestClient, Container], path: str, limit: str
    ) -> None:
        client, _ = edge
        response = client.get(path, params={"limit": limit}, headers=STAFF)
        body = assert_clean_problem(response, 400)
        assert "limit" in str(body["detail"])
        assert response.headers["cache-control"] == "no-store"

    def test_a_forged_audit_cursor_beyond_64_bits_is_a_400(
        self, edge: tuple[TestClient, Container]
    ) -> None:
        client, _ = edge
        forged = base64.urlsafe_b64encode(b"9999999999999999999:0").decode().rstrip("=")
        for path in ("/api/audit/entries", "/api/organizers/org-1/timeline"):
            response = client.get(path, params={"cursor": forged}, headers=STAFF)
            assert_clean_problem(response, 400)

    def test_a_forged_ops_cursor_with_a_nul_is_a_400(
        self, edge: tuple[TestClient, Container]
    ) -> None:
        client, _ = edge
        forged = base64.urlsafe_b64encode(orjson.dumps(["a\x00", "b"])).decode().rstrip("=")
        response = client.get("/api/ops/sync-failures", params={"cursor": forged}, headers=STAFF)
        assert_clean_problem(response, 400)

    @pytest.mark.parametrize(
        "value", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "1969-12-31T00:00Z"]
    )
    def test_an_instant_outside_the_ledgers_range_is_a_400(
        self, edge: tuple[TestClient, Container], value: str
    ) -> None:
        client, _ = edge
        for path, name in (
            ("/api/renewals", "due_before"),
            ("/api/organizers/org-1/state", "as_of"),
            ("/api/audit/entries", "from"),
        ):
            response = client.get(path, params={name: value}, headers=STAFF)
            body = assert_clean_problem(response, 400)
            assert name in str(body["detail"])


class TestPaths:
    @pytest.mark.parametrize("path", ["/index.html%00", "/%00", "/a%01b", "/" + "x" * 5000])
    def test_a_path_no_page_can_have_is_a_404(
        self, edge: tuple[TestClient, Container], path: str
    ) -> None:
        client, _ = edge
        assert_clean_problem(client.get(path), 404)

    def test_a_page_path_still_serves_the_app(self, edge: tuple[TestClient, Container]) -> None:
        client, _ = edge
        response = client.get("/billing")
        assert response.status_code == 200
        assert "<title>ledger</title>" in response.text

    def test_an_unknown_api_route_is_a_problem_that_is_never_cached(
        self, edge: tuple[TestClient, Container]
    ) -> None:
        client, _ = edge
        response = client.get("/api/no-such-thing", headers=STAFF)
        assert_clean_problem(response, 404)
        assert response.headers["cache-control"] == "no-store"


class TestCors:
    def test_a_preflight_from_another_origin_is_refused_as_a_problem(
        self, edge: tuple[TestClient, Container]
    ) -> None:
        client, _ = edge
        response = client.options(
            "/api/renewals",
            headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"},
        )
        body = assert_clean_problem(response, 400)
        assert "origin" in str(body["detail"])

    def test_a_preflight_for_a_method_the_api_does_not_take_is_refused_as_a_problem(
        self, edge: tuple[TestClient, Container]
    ) -> None:
        client, _ = edge
        response = client.options(
            "/api/renewals",
            headers={"Origin": "https://app.example", "Access-Control-Request-Method": "DELETE"},
        )
        body = assert_clean_problem(response, 400)
        assert "method" in str(body["detail"])

    def test_an_allowed_preflight_still_passes(self, edge: tuple[TestClient, Container]) -> None:
        client, _ = edge
        response = client.options(
            "/api/renewals",
            headers={"Origin": "https://app.example", "Access-Control-Request-Method": "GET"},
        )
        assert response.status_code == 200
        assert response.headers["access-control-allow-origin"] == "https://app.example"


class TestRequestIds:
    def test_a_sane_request_id_is_echoed_and_named_in_the_problem(
        self, edge: tuple[TestClient, Container]
    ) -> None:
        client, _ = edge
        response = client.get("/api/renewals", headers={"X-Request-Id": "req-abc.123"})
        body = assert_clean_problem(response, 401)
        assert body["request_id"] == "req-abc.123"

    def test_an_unusable_request_id_is_replaced_by_a_fresh_one(
        self, edge: tuple[TestClient, Container]
    ) -> None:
        client, _ = edge
        response = client.get("/healthz", headers={"X-Request-Id": "x" * 500})
        assert response.status_code == 200
        assert len(response.headers["x-request-id"]) == 32


def test_an_unexpected_error_is_a_problem_with_the_security_headers() -> None:
    """Starlette answers 500s from its outermost middleware: the headers must sit outside."""

    async def boom(_: Request) -> Response:
        msg = "a bug"
        raise RuntimeError(msg)

    app = LedgerApp(
        routes=[Route("/api/boom", boom)], exception_handlers={Exception: on_unexpected}
    )
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/api/boom")
    body = assert_clean_problem(response, 500)
    assert "a bug" not in response.text
    assert body["title"] == "Internal error"
    assert response.headers["cache-control"] == "no-store"


class TestReadiness:
    def test_a_store_missing_a_table_is_not_ready(self, edge: tuple[TestClient, Container]) -> None:
        client, container = edge
        assert client.get("/readyz").status_code == 200
        with container.database.transaction() as cursor:
            cursor.execute("DROP TABLE stripe_links")
        body = assert_clean_problem(client.get("/readyz"), 503)
        assert "stripe_links" in str(body["detail"])

    def test_a_webhook_that_cannot_be_stored_is_a_503_to_retry(
        self, edge: tuple[TestClient, Container]
    ) -> None:
        client, container = edge
        with container.database.transaction() as cursor:
            cursor.execute("DROP TABLE stripe_inbox")
        body = orjson.dumps(subscription_event("basil", event_id="evt_unstorable"))
        response = client.post(
            "/webhooks/stripe", content=body, headers={"Stripe-Signature": sign(body)}
        )
        assert_clean_problem(response, 503)
        assert response.headers["retry-after"]


class TestWebhookEnvelope:
    def test_a_signature_from_the_future_beyond_the_tolerance_is_refused(
        self, edge: tuple[TestClient, Container]
    ) -> None:
        client, _ = edge
        body = orjson.dumps(subscription_event("basil", event_id="evt_future"))
        future = int(time.time()) + 3600
        response = client.post(
            "/webhooks/stripe",
            content=body,
            headers={"Stripe-Signature": sign(body, timestamp=future)},
        )
        problem = assert_clean_problem(response, 400)
        assert "future" in str(problem["detail"])

    def test_a_little_clock_skew_is_accepted(self, edge: tuple[TestClient, Container]) -> None:
        client, _ = edge
        body = orjson.dumps(subscription_event("basil", event_id="evt_skew"))
        response = client.post(
            "/webhooks/stripe",
            content=body,
            headers={"Stripe-Signature": sign(body, timestamp=int(time.time()) + 30)},
        )
        assert response.status_code == 200

    @pytest.mark.parametrize(
        ("field", "value"),
        [("id", "evt_a\x00b"), ("type", "customer.subscription.updated\x00"), ("created", 10**13)],
    )
    def test_an_envelope_no_store_can_hold_is_not_an_event(
        self, edge: tuple[TestClient, Container], field: str, value: object
    ) -> None:
        client, _ = edge
        event = subscription_event("basil", event_id="evt_envelope")
        event[field] = value
        body = orjson.dumps(event)
        response = client.post(
            "/webhooks/stripe", content=body, headers={"Stripe-Signature": sign(body)}
        )
        assert_clean_problem(response, 400)


def raw_token(**claims: object) -> dict[str, str]:
    return {"Authorization": f"Bearer {jwt.encode(claims, TOKEN_SECRET, algorithm='HS256')}"}


class TestTokenTimes:
    @pytest.mark.parametrize(
        "claims",
        [
            {"exp": "{soon}"},
            {"exp": True},
            {"exp": "{soon_int}", "nbf": "0"},
            {"exp": "{soon_int}", "iat": [1]},
            {"exp": "{soon_int}", "iat": 1e300},
        ],
    )
    def test_time_claims_must_be_numeric_dates(
        self, edge: tuple[TestClient, Container], claims: dict[str, object]
    ) -> None:
        client, _ = edge
        soon = int(time.time()) + 600
        filled = {
            k: {"{soon}": str(soon), "{soon_int}": soon}.get(v, v) if isinstance(v, str) else v
            for k, v in claims.items()
        }
        response = client.get(
            "/api/renewals", headers=raw_token(sub="staff", role="finance", **filled)
        )
        assert_clean_problem(response, 401)

    def test_a_token_that_lives_longer_than_the_cap_is_refused(
        self, edge: tuple[TestClient, Container]
    ) -> None:
        client, _ = edge
        far = int(time.time()) + 25 * 3600
        response = client.get("/api/renewals", headers=raw_token(sub="s", role="finance", exp=far))
        body = assert_clean_problem(response, 401)
        assert "exp" in str(body["detail"])

    def test_a_token_within_the_cap_is_accepted(self, edge: tuple[TestClient, Container]) -> None:
        client, _ = edge
        now = int(time.time())
        headers = raw_token(sub="s", role="finance", exp=now + 23 * 3600, iat=now, nbf=now - 5)
        assert client.get("/api/renewals", headers=headers).status_code == 200
