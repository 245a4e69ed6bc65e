"""The organizer API over HTTP on both stores: auth rules, validation, paging, enrollment."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from adapters.stripe.commands import RecordTaxIds
from app.bootstrap import Container, bootstrap
from app.entrypoints.http.web import create_app
from app.services.ops.paging import encode_cursor as encode_text_key
from app.services.prices import record_configured_price, record_price
from app.settings import load_settings
from domain.billing import InvoiceFacts, SubscriptionSnapshot
from domain.groups import GroupAction
from domain.prices import PriceFacts, PriceTier
from projections.runner import LogReader, build_read_models, catch_up
from stripe_double import running_double
from tests.support.api import SERVICE_TOKEN, TOKEN_SECRET, bearer
from tests.support.clock import SteppingClock


@dataclass
class Api:
    client: TestClient
    container: Container
    clock: SteppingClock
    admin: httpx.Client

    def project(self) -> None:
        catch_up(
            LogReader(self.container.ledger),
            build_read_models(self.container.database, minimum_quantity=1),
        )

    def groups(self, organizer: str, count: int, *, prefix: str = "g") -> None:
        for i in range(count):
            self.clock.advance(timedelta(seconds=1))
            self.container.ledger.change_group(
                organizer,
                action=GroupAction.ACTIVATED,
                group_id=f"{prefix}{i}",
                change_id=f"{organizer}-{prefix}{i}",
                occurred_at=self.clock.now,
            )

    def subscribe(self, organizer: str, quantity: int) -> None:
        snapshot = SubscriptionSnapshot(
            subscription_id=f"sub_{organizer}",
            item_id=f"si_{organizer}",
            price_id="price_x",
            status="active",
            quantity=quantity,
            current_period_start=self.clock.now,
            current_period_end=self.clock.now + timedelta(days=30),
            observed_at=self.clock.now,
        )
        self.container.ledger.update(
            organizer,
            lambda o, at: o.observe_subscription(snapshot, source="evt_s", at=at),
            register=True,
        )


@pytest.fixture
def api(database_url: str, clock: SteppingClock, request: pytest.FixtureRequest) -> Iterator[Api]:
    automatic_tax = request.node.get_closest_marker("automatic_tax") is not None
    with running_double() as double, httpx.Client(base_url=double.base_url) as admin:
        price = admin.post("/_double/seed", json={"unit_amount": 500, "currency": "eur"}).json()[
            "price"
        ]
        container = bootstrap(
            load_settings(
                database_url=database_url,
                token_secret=TOKEN_SECRET,
                service_token=SERVICE_TOKEN,
                stripe_api_key="sk_test_double",
                stripe_api_base=double.base_url,
                stripe_price_id=price,
                cors_origins="https://app.example.com",
                stripe_automatic_tax=automatic_tax,
            ),
            clock=clock,
            embedded_migrate=False,
        )
        container.migrate()
        # What the worker does when it starts: the page's estimate reads this record.
        gateway = container.gateway
        assert gateway is not None
        assert record_configured_price(container.ledger, gateway, price)
        with TestClient(create_app(container)) as client:
            yield Api(client, container, clock, admin)


ORGANIZER_ROUTES = [
    "/api/organizers/{id}",
    "/api/organizers/{id}/timeline",
    "/api/organizers/{id}/invoices",
    "/api/organizers/{id}/state",
]
STAFF_ROUTES = ["/api/renewals", "/api/audit/entries", "/api/ops/sync-failures"]


class TestAuth:
    @pytest.mark.parametrize("route", ORGANIZER_ROUTES)
    def test_an_organizer_reads_itself_and_never_another(self, api: Api, route: str) -> None:
        api.groups("org-a", 1)
        api.groups("org-b", 1)
        api.project()
        own = api.client.get(route.format(id="org-a"), headers=bearer("org-a"))
        assert own.status_code == 200, own.text
        other = api.client.get(route.format(id="org-b"), headers=bearer("org-a"))
        missing = api.client.get(route.format(id="org-zzz"), headers=bearer("org-a"))
        assert (other.status_code, missing.status_code) == (404, 404)
        assert other.json()["title"] == missing.json()["title"]  # indistinguishable

    @pytest.mark.parametrize("route", ORGANIZER_ROUTES)
    @pytest.mark.parametrize("role", ["finance", "ops"])
    def test_staff_read_any_organizer(self, api: Api, route: str, role: str) -> None:
        api.groups("org-a", 1)
        api.project()
        response = api.client.get(route.format(id="org-a"), headers=bearer("staff", role))  # type: ignore[arg-type]
        assert response.status_code == 200

    @pytest.mark.parametrize("route", [*ORGANIZER_ROUTES, *STAFF_ROUTES])
    @pytest.mark.parametrize(
        "headers",
        [
            {},
            {"Authorization": "Bearer not-a-jwt"},
            {"Authorization": "Basic b3JnLWE6eA=="},
            bearer("org-a", secret="another-secret-that-is-long-enough-000"),
            bearer("org-a", ttl=timedelta(seconds=-5)),
            {"Authorization": f"Bearer {SERVICE_TOKEN}"},
        ],
        ids=["missing", "malformed", "not-bearer", "forged", "expired", "service-token"],
    )
    def test_missing_expired_malformed_or_forged_tokens_are_401(
        self, api: Api, route: str, headers: dict[str, str]
    ) -> None:
        response = api.client.get(route.format(id="org-a"), headers=headers)
        assert response.status_code == 401
        assert response.headers["content-type"] == "application/problem+json"
        assert "Bearer" in response.headers["www-authenticate"]

    @pytest.mark.parametrize("route", STAFF_ROUTES)
    def test_finance_and_ops_routes_are_403_for_organizers(self, api: Api, route: str) -> None:
        assert api.client.get(route, headers=bearer("org-a")).status_code == 403
        assert api.client.get(route, headers=bearer("staff", "finance")).status_code == 200


class TestValidation:
    def test_a_bad_body_names_the_field(self, api: Api) -> None:
        response = api.client.post(
            "/api/organizers/org-a/enrollment", json={"success_url": 5}, headers=bearer("org-a")
        )
        assert response.status_code == 400
        assert response.json()["invalid_params"][0]["name"] == "success_url"

    def test_unknown_fields_are_refused(self, api: Api) -> None:
        response = api.client.post(
            "/api/organizers/org-a/enrollment", json={"coupon": "FREE"}, headers=bearer("org-a")
        )
        assert response.status_code == 400
        assert response.json()["invalid_params"][0]["name"] == "coupon"

    @pytest.mark.parametrize(
        ("query", "name"), [("limit=0", "limit"), ("limit=x", "limit"), ("cursor=%%%", "cursor")]
    )
    @pytest.mark.parametrize("route", ["timeline", "invoices"])
    def test_bad_query_parameters_name_themselves(
        self, api: Api, query: str, name: str, route: str
    ) -> None:
        api.groups("org-a", 1)
        api.project()
        response = api.client.get(f"/api/organizers/org-a/{route}?{query}", headers=bearer("org-a"))
        assert response.status_code == 400
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["invalid_params"][0]["name"] == name

    @pytest.mark.parametrize("route", ["timeline", "invoices"])
    def test_a_cursor_of_another_list_is_refused(self, api: Api, route: str) -> None:
        api.groups("org-a", 1)
        api.project()
        other = encode_text_key(("not-an-instant", "x"))
        response = api.client.get(
            f"/api/organizers/org-a/{route}?cursor={other}", headers=bearer("org-a")
        )
        assert response.status_code == 400
        assert response.json()["invalid_params"][0]["name"] == "cursor"


class TestTimeline:
    def test_pages_cover_every_entry_once_newest_first_even_while_appending(self, api: Api) -> None:
        api.groups("org-a", 12)
        api.project()
        seen: list[tuple[int, int]] = []
        url = "/api/organizers/org-a/timeline?limit=5"
        page = api.client.get(url, headers=bearer("org-a")).json()
        api.groups("org-a", 3, prefix="late")  # appended between pages: never in older pages
        api.project()
        while True:
            seen += [(e["position"], e["seq"]) for e in page["entries"]]
            if page["next_cursor"] is None:
                break
            page = api.client.get(
                f"{url}&cursor={page['next_cursor']}", headers=bearer("org-a")
            ).json()
        assert len(seen) == 12
        assert seen == sorted(seen, reverse=True)

    def test_entries_explain_the_quantity_in_words(self, api: Api) -> None:
        api.groups("org-a", 2)
        api.project()
        entries = api.client.get("/api/organizers/org-a/timeline", headers=bearer("org-a")).json()[
            "entries"
        ]
        assert entries[0]["title"] == "Group g1 opened"
        assert "2 groups billable" in entries[0]["description"]


def record_invoice(api: Api, organizer: str, invoice_id: str, period_start: datetime) -> None:
    invoice = InvoiceFacts(
        invoice_id=invoice_id,
        subscription_id=f"sub_{organizer}",
        billing_reason="subscription_cycle",
        period_start=period_start,
        period_end=period_start + timedelta(days=30),
        quantity=1,
        subtotal=500,
        tax=0,
        total=500,
        amount_due=500,
        amount_paid=500,
        currency="eur",
        status="paid",
    )
    api.container.ledger.update(
        organizer, lambda o, at: o.record_invoice(invoice, source=f"evt_{invoice_id}", at=at)
    )


class TestInvoices:
    def test_pages_cover_every_invoice_once_newest_period_first_even_while_recording(
        self, api: Api
    ) -> None:
        api.groups("org-i", 1)
        start = api.clock.now
        # Two invoices share each period start: the id breaks the tie, stably.
        for n in range(11):
            record_invoice(api, "org-i", f"in_{n:02}", start + timedelta(days=30 * (n // 2)))
        api.project()
        url = "/api/organizers/org-i/invoices?limit=4"
        page = api.client.get(url, headers=bearer("org-i")).json()
        record_invoice(api, "org-i", "in_late", start + timedelta(days=400))  # newer than all
        record_invoice(api, "org-i", "in_early", start - timedelta(days=30))  # older than all
        api.project()
        seen: list[tuple[str, str]] = []
        sizes: list[int] = []
        while True:
            seen += [(i["period_start"], i["invoice_id"]) for i in page["invoices"]]
            sizes.append(len(page["invoices"]))
            if page["next_cursor"] is None:
                break
            page = api.client.get(
                f"{url}&cursor={page['next_cursor']}", headers=bearer("org-i")
            ).json()
        ids = [invoice_id for _, invoice_id in seen]
        # The one recorded newer than the first page is not in later pages; the older one is.
        assert sorted(ids) == sorted([*(f"in_{n:02}" for n in range(11)), "in_early"])
        assert seen == sorted(seen, reverse=True)
        assert sizes == [4, 4, 4]

    def test_one_page_without_a_limit_and_no_cursor_at_its_end(self, api: Api) -> None:
        api.groups("org-i", 1)
        record_invoice(api, "org-i", "in_only", api.clock.now)
        api.project()
        body = api.client.get("/api/organizers/org-i/invoices", headers=bearer("org-i")).json()
        assert [i["invoice_id"] for i in body["invoices"]] == ["in_only"]
        assert body["next_cursor"] is None


class TestRenewals:
    def test_pages_cover_every_organizer_once_by_period_end_then_unsubscribed(
        self, api: Api
    ) -> None:
        for n in range(5):
            api.groups(f"org-r{n}", 1)
            api.subscribe(f"org-r{n}", 1)  # each a second later: a later period end
        for n in range(3):
            api.groups(f"org-u{n}", 1)  # no subscription: no period end, listed last
        api.project()
        staff = bearer("staff", "finance")
        seen: list[tuple[str | None, str]] = []
        url = "/api/renewals?limit=3"
        page = api.client.get(url, headers=staff).json()
        while True:
            seen += [(r["current_period_end"], r["organizer_id"]) for r in page["renewals"]]
            assert page["truncated"] == (page["next_cursor"] is not None)
            if page["next_cursor"] is None:
                break
            page = api.client.get(f"{url}&cursor={page['next_cursor']}", headers=staff).json()
        ids = [organizer for _, organizer in seen]
        assert ids == [*(f"org-r{n}" for n in range(5)), *(f"org-u{n}" for n in range(3))]

    @pytest.mark.parametrize(
        "query", ["limit=0", "limit=1001", "cursor=%%%", "cursor=WyJ4IiwieSJd"]
    )
    def test_a_bad_page_parameter_is_a_400_naming_it(self, api: Api, query: str) -> None:
        response = api.client.get(f"/api/renewals?{query}", headers=bearer("staff", "finance"))
        assert response.status_code == 400
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["invalid_params"][0]["name"] == query.split("=", maxsplit=1)[0]


class TestBillingAndEnrollment:
    def test_the_billing_page_estimates_the_charge_from_the_price(self, api: Api) -> None:
        api.groups("org-a", 3)
        api.project()
        billing = api.client.get("/api/organizers/org-a", headers=bearer("org-a")).json()
        assert billing["enrollment_status"] == "not_enrolled"
        assert billing["active_groups"] == {"count": 3, "ids": ["g0", "g1", "g2"]}
        assert billing["estimated_next_charge"]["total"] == 1500
        assert billing["estimated_next_charge"]["currency"] == "eur"

    def test_page_views_never_call_stripe_for_the_price(self, api: Api) -> None:
        api.groups("org-a", 2)
        api.project()
        before = price_calls(api)
        for _ in range(3):
            billing = api.client.get("/api/organizers/org-a", headers=bearer("org-a")).json()
            assert billing["estimated_next_charge"]["total"] == 1000
        assert price_calls(api) == before

    def test_with_stripe_unreachable_the_page_still_answers_from_the_ledger(
        self, api: Api, database_url: str, clock: SteppingClock
    ) -> None:
        api.groups("org-a", 3)
        api.project()
        price_id = api.container.settings.stripe_price_id
        down = bootstrap(
            load_settings(
                database_url=database_url,
                token_secret=TOKEN_SECRET,
                service_token=SERVICE_TOKEN,
                stripe_api_key="sk_test_double",
                stripe_api_base="http://127.0.0.1:9",  # nothing listens there
                stripe_price_id=price_id,
                stripe_timeout_s=1,
            ),
            clock=clock,
            embedded_migrate=False,
        )
        try:
            with TestClient(create_app(down)) as client:
                response = client.get("/api/organizers/org-a", headers=bearer("org-a"))
        finally:
            down.close()
        assert response.status_code == 200, response.text
        billing = response.json()
        assert billing["estimated_next_charge"]["total"] == 1500
        assert billing["estimate_absent_reason"] is None

    def test_a_price_the_ledger_never_saw_leaves_the_estimate_out_with_the_reason(
        self, api: Api
    ) -> None:
        api.subscribe("org-a", 2)  # on price_x, which no event or read has shown
        api.project()
        response = api.client.get("/api/organizers/org-a", headers=bearer("org-a"))
        assert response.status_code == 200
        billing = response.json()
        assert (billing["estimated_next_charge"], billing["price"]) == (None, None)
        assert billing["estimate_absent_reason"] == "price_unknown"

    def test_a_tiered_price_leaves_the_estimate_out_with_the_reason(self, api: Api) -> None:
        tiered = PriceFacts(
            price_id="price_x",
            unit_amount=None,
            currency="eur",
            interval="month",
            interval_count=1,
            billing_scheme="tiered",
            tiers_mode="volume",
            tiers=(PriceTier(10, 500, None), PriceTier(None, 400, None)),
            active=True,
            deleted=False,
            observed_at=api.clock.now,
            source="evt_tiered",
        )
        assert record_price(api.container.ledger, tiered)
        api.subscribe("org-a", 2)
        api.project()
        billing = api.client.get("/api/organizers/org-a", headers=bearer("org-a")).json()
        assert billing["estimated_next_charge"] is None
        assert billing["estimate_absent_reason"] == "price_not_per_unit"

    def test_the_page_shows_the_customers_tax_ids_whatever_the_arrival_order(
        self, api: Api
    ) -> None:
        def observe(source: str, second: int, pairs: Any, *, removed: bool) -> None:
            command = RecordTaxIds(
                source,
                "cus_a",
                pairs,
                removed=removed,
                observed_at=api.clock.now + timedelta(seconds=second),
            )
            api.container.ledger.update("org-a", command.apply, register=True)

        # The removal of the old id (t=20) arrives before its addition (t=10).
        observe("evt_3", 20, (("eu_vat", "DE111"),), removed=True)
        observe("evt_1", 10, (("eu_vat", "DE111"), ("eu_vat", "DE222")), removed=False)
        observe("evt_1", 10, (("eu_vat", "DE111"),), removed=False)  # a duplicate delivery
        api.project()
        billing = api.client.get("/api/organizers/org-a", headers=bearer("org-a")).json()
        assert billing["tax_ids"] == [{"type": "eu_vat", "value": "DE222"}]

    def test_enrollment_opens_checkout_once_and_reuses_it_while_open(self, api: Api) -> None:
        api.groups("org-a", 2)
        first = api.client.post(
            "/api/organizers/org-a/enrollment", json={}, headers=bearer("org-a")
        )
        assert first.status_code == 201, first.text
        again = api.client.post(
            "/api/organizers/org-a/enrollment", json={}, headers=bearer("org-a")
        )
        assert again.status_code == 200
        assert again.json()["session_id"] == first.json()["session_id"]
        assert again.json()["reused"] is True
        sessions = [
            r
            for r in api.admin.get("/_double/requests").json()
            if r["path"] == "/v1/checkout/sessions" and r["method"] == "POST"
        ]
        assert len(sessions) == 1
        params: dict[str, Any] = sessions[0]["params"]
        assert params["client_reference_id"] == "org-a"
        assert (
            params["line_items"]["0"]["quantity"] == "2"
            if isinstance(params["line_items"], dict)
            else True
        )
        assert api.container.ledger.get("org-a").stripe_customer_id is not None

    def test_an_enrolled_organizer_gets_409(self, api: Api) -> None:
        api.subscribe("org-a", 1)
        response = api.client.post(
            "/api/organizers/org-a/enrollment", json={}, headers=bearer("org-a")
        )
        assert response.status_code == 409

    def test_the_portal_needs_a_customer(self, api: Api) -> None:
        api.groups("org-a", 1)
        assert (
            api.client.post(
                "/api/organizers/org-a/portal-session", headers=bearer("org-a")
            ).status_code
            == 409
        )
        api.client.post("/api/organizers/org-a/enrollment", json={}, headers=bearer("org-a"))
        portal = api.client.post("/api/organizers/org-a/portal-session", headers=bearer("org-a"))
        assert portal.status_code == 200
        assert "/_double/portal/" in portal.json()["url"]


def price_calls(api: Api) -> int:
    requests = api.admin.get("/_double/requests").json()
    return sum(1 for r in requests if str(r["path"]).startswith("/v1/prices"))


class TestHeadersAndDocs:
    def test_security_headers_and_cors_for_the_configured_origin(self, api: Api) -> None:
        response = api.client.get("/healthz", headers={"Origin": "https://app.example.com"})
        assert response.headers["x-content-type-options"] == "nosniff"
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
        assert response.headers["access-control-allow-origin"] == "https://app.example.com"
        other = api.client.get("/healthz", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in other.headers

    def test_openapi_31_describes_every_api_route(self, api: Api) -> None:
        document = api.client.get("/openapi.json").json()
        assert document["openapi"] == "3.1.0"
        for path in (
            "/api/organizers/{organizer_id}",
            "/api/organizers/{organizer_id}/enrollment",
            "/api/renewals",
        ):
            assert path in document["paths"]
        assert api.client.get("/docs").status_code == 200


@pytest.mark.automatic_tax
class TestStripeTax:
    def test_checkout_asks_stripe_to_compute_tax_and_the_estimate_leaves_it_open(
        self, api: Api
    ) -> None:
        api.groups("org-t", 2)
        api.project()
        created = api.client.post(
            "/api/organizers/org-t/enrollment", json={}, headers=bearer("org-t")
        )
        assert created.status_code == 201
        (session,) = [
            r
            for r in api.admin.get("/_double/requests").json()
            if r["path"] == "/v1/checkout/sessions" and r["method"] == "POST"
        ]
        assert session["params"]["automatic_tax"] == {"enabled": "true"}
        billing = api.client.get("/api/organizers/org-t", headers=bearer("org-t")).json()
        assert billing["estimated_next_charge"]["tax"] is None
        assert billing["estimated_next_charge"]["subtotal"] == 1000

    def test_invoices_show_tax_apart_from_the_per_group_amount(self, api: Api) -> None:
        api.groups("org-t", 2)
        invoice = InvoiceFacts(
            invoice_id="in_tax",
            subscription_id="sub_t",
            billing_reason="subscription_cycle",
            period_start=api.clock.now,
            period_end=api.clock.now + timedelta(days=30),
            quantity=2,
            subtotal=1000,
            tax=190,
            total=1190,
            amount_due=1190,
            amount_paid=1190,
            currency="eur",
            status="paid",
        )
        api.container.ledger.update(
            "org-t", lambda o, at: o.record_invoice(invoice, source="evt_tax", at=at)
        )
        api.project()
        (shown,) = api.client.get("/api/organizers/org-t/invoices", headers=bearer("org-t")).json()[
            "invoices"
        ]
        assert (shown["subtotal"], shown["tax"], shown["total"]) == (1000, 190, 1190)
        entries = api.client.get("/api/organizers/org-t/timeline", headers=bearer("org-t")).json()[
            "entries"
        ]
        # Values, not words: the SPA formats them in the organizer's locale.
        assert entries[0]["subtotal"] == {"amount": 1000, "currency": "eur"}
        assert entries[0]["tax"] == {"amount": 190, "currency": "eur"}


class TestNoOpenRedirect:
    @pytest.mark.parametrize(
        "url",
        [
            "https://evil.example/phish",
            "javascript:alert(1)",
            "data:text/html,hi",
            "/enroll/return",
            "http://127.0.0.1:8000@evil.example/",
            "https://127.0.0.1:8000.evil.example/",
            "http://127.0.0.1:8001/enroll",
            "http:\\\\evil.example",
        ],
    )
    def test_a_return_url_off_our_origin_is_a_400_and_opens_no_checkout(
        self, api: Api, url: str
    ) -> None:
        api.groups("org-r", 1)
        for field in ("success_url", "cancel_url"):
            response = api.client.post(
                "/api/organizers/org-r/enrollment", json={field: url}, headers=bearer("org-r")
            )
            assert response.status_code == 400, response.text
            assert response.json()["invalid_params"][0]["name"] == field
        paths = [r["path"] for r in api.admin.get("/_double/requests").json()]
        assert "/v1/checkout/sessions" not in paths

    def test_a_return_url_on_our_origin_is_handed_to_checkout(self, api: Api) -> None:
        api.groups("org-r", 1)
        url = "http://127.0.0.1:8000/enroll/return?session_id={CHECKOUT_SESSION_ID}"
        response = api.client.post(
            "/api/organizers/org-r/enrollment", json={"success_url": url}, headers=bearer("org-r")
        )
        assert response.status_code == 201, response.text
        sessions = [
            r
            for r in api.admin.get("/_double/requests").json()
            if r["path"] == "/v1/checkout/sessions" and r["method"] == "POST"
        ]
        assert sessions[0]["params"]["success_url"] == url


class TestStripeWordsStayInside:
    def test_a_stripe_error_is_a_generic_503_with_a_request_id(self, api: Api) -> None:
        api.groups("org-s", 1)
        leaky = "Invalid API Key provided: sk_test_****************************wxyz at 10.0.0.7:443"
        api.admin.post(
            "/_double/faults",
            json={"path": "^/v1/customers$", "status": 500, "message": leaky, "count": 5},
        )
        response = api.client.post(
            "/api/organizers/org-s/enrollment",
            json={},
            headers={**bearer("org-s"), "X-Request-Id": "support-me-1"},
        )
        assert response.status_code == 503
        assert response.headers["retry-after"]
        assert response.json()["request_id"] == "support-me-1"
        for secret in ("wxyz", "10.0.0.7", "Invalid API Key", "sk_test"):
            assert secret not in response.text

    def test_an_unreachable_stripe_names_no_host(
        self, database_url: str, clock: SteppingClock
    ) -> None:
        container = bootstrap(
            load_settings(
                database_url=database_url,
                token_secret=TOKEN_SECRET,
                stripe_api_key="sk_test_double",
                stripe_api_base="http://127.0.0.1:9",
                stripe_price_id="price_x",
            ),
            clock=clock,
            embedded_migrate=False,
        )
        container.migrate()
        try:
            with TestClient(create_app(container)) as client:
                response = client.post(
                    "/api/organizers/org-u/enrollment", json={}, headers=bearer("org-u")
                )
            assert response.status_code == 503
            assert "127.0.0.1" not in response.text
            assert ":9" not in response.text
        finally:
            container.close()
