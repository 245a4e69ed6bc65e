"""``ledger stripe setup | check | backfill`` as real processes against the Stripe double
(through the real SDK), on the embedded default store (SQLite in the working directory)."""

from __future__ import annotations

import json
import signal
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import stripe

from adapters.persistence.database import open_database, parse_database_url
from adapters.persistence.inbox import InboxDelivery, StripeInbox
from adapters.stripe.gateway import PINNED_API_VERSION
from adapters.stripe.translate import HANDLED_EVENT_TYPES
from app.bootstrap import bootstrap
from app.settings import load_settings
from domain.prices import StripePrice, price_uuid
from stripe_double import running_double, sdk_client
from tests.support.processes import ledger_worker, run_ledger, wait_for

URL = "https://ledger.example.com/webhooks/stripe"
WRITES = {"POST", "DELETE"}


@dataclass
class Account:
    """A Stripe double with one per-group price, and the env that reaches it."""

    client: stripe.StripeClient
    admin: httpx.Client
    price: str
    cwd: Path
    env: dict[str, str] = field(default_factory=dict)

    def ledger(self, *args: str, **env: str) -> tuple[int, str, str]:
        result = run_ledger(*args, cwd=self.cwd, env={**self.env, **env})
        return result.returncode, result.stdout, result.stderr

    def writes(self) -> list[tuple[str, str]]:
        """The /v1 writes the double received since the last call."""
        entries: list[dict[str, Any]] = self.admin.get("/_double/requests").json()
        self.admin.delete("/_double/requests").raise_for_status()
        return [(e["method"], e["path"]) for e in entries if e["method"] in WRITES]

    def endpoints(self) -> list[Any]:
        return list(self.client.v1.webhook_endpoints.list().data)

    def check(self, **env: str) -> tuple[int, list[str]]:
        code, out, err = self.ledger("stripe", "check", "--json", **env)
        assert err == "", err
        document = json.loads(out)
        assert document["ok"] is (code == 0)
        return code, [f["code"] for f in document["findings"]]


@pytest.fixture
def account(tmp_path: Path) -> Iterator[Account]:
    with (
        running_double(webhook_delivery=False) as double,
        httpx.Client(base_url=double.base_url) as admin,
        sdk_client(double.base_url) as client,
    ):
        price = admin.post("/_double/seed", json={"unit_amount": 500}).json()["price"]
        env = {
            "STRIPE_API_KEY": "sk_test_double",
            "STRIPE_API_BASE": double.base_url,
            "STRIPE_PRICE_ID": price,
        }
        yield Account(client, admin, price, tmp_path, env)


class TestSetup:
    def test_an_empty_account_gets_one_pinned_endpoint_and_a_portal_configuration(
        self, account: Account
    ) -> None:
        code, out, err = account.ledger("stripe", "setup", "--url", URL)
        assert (code, err) == (0, "")
        [endpoint] = account.endpoints()
        assert endpoint.url == URL
        assert endpoint.api_version == PINNED_API_VERSION
        assert sorted(endpoint.enabled_events) == sorted(HANDLED_EVENT_TYPES)
        secret_lines = [line for line in out.splitlines() if "whsec_" in line]
        assert len(secret_lines) == 1
        [config] = account.client.v1.billing_portal.configurations.list().data
        features = config.features
        assert features.subscription_update.enabled is False
        assert (features.subscription_cancel.enabled, features.subscription_cancel.mode) == (
            True,
            "at_period_end",
        )
        assert "address" in features.customer_update.allowed_updates
        assert f"STRIPE_PORTAL_CONFIGURATION={config.id}" in out

    def test_running_it_twice_writes_nothing_and_shows_no_secret(self, account: Account) -> None:
        account.ledger("stripe", "setup", "--url", URL)
        account.writes()
        code, out, err = account.ledger(
            "stripe", "setup", "--url", URL, STRIPE_PORTAL_CONFIGURATION=self._config(account)
        )
        assert (code, err) == (0, "")
        assert account.writes() == []
        assert out.strip() == "nothing to change"

    def test_an_endpoint_on_another_version_is_replaced_and_a_partial_one_updated(
        self, account: Account
    ) -> None:
        dashboard = account.client.v1.webhook_endpoints.create(
            params={"url": URL, "enabled_events": ["*"], "api_version": "2025-03-31.basil"}
        )
        code, out, _ = account.ledger("stripe", "setup", "--url", URL)
        assert code == 0
        [endpoint] = account.endpoints()
        assert endpoint.id != dashboard.id
        assert endpoint.api_version == PINNED_API_VERSION
        assert f"deleted webhook endpoint {dashboard.id}" in out
        assert "whsec_" in out

        account.client.v1.webhook_endpoints.update(
            endpoint.id, params={"enabled_events": ["invoice.paid"], "disabled": True}
        )
        code, out, _ = account.ledger("stripe", "setup", "--url", URL)
        assert code == 0
        assert f"updated webhook endpoint {endpoint.id}" in out
        assert "whsec_" not in out  # the same endpoint: its secret does not change
        [again] = account.endpoints()
        assert (again.id, again.status) == (endpoint.id, "enabled")
        assert sorted(again.enabled_events) == sorted(HANDLED_EVENT_TYPES)

    def test_a_portal_configuration_that_allows_quantity_changes_is_corrected(
        self, account: Account
    ) -> None:
        account.ledger("stripe", "setup", "--url", URL)
        config_id = self._config(account)
        product = account.client.v1.prices.retrieve(account.price).product
        account.client.v1.billing_portal.configurations.update(
            config_id,
            params={
                "features": {
                    "subscription_update": {
                        "enabled": True,
                        "default_allowed_updates": ["quantity"],
                        "products": [{"product": str(product), "prices": [account.price]}],
                    }
                }
            },
        )
        assert account.check()[1] == ["portal_allows_subscription_update"]
        code, out, _ = account.ledger("stripe", "setup", "--url", URL)
        assert code == 0
        assert f"updated portal configuration {config_id}" in out
        assert account.check() == (0, [])

    def test_a_price_it_cannot_fix_is_reported_with_exit_1(self, account: Account) -> None:
        one_time = account.client.v1.prices.create(
            params={"currency": "eur", "unit_amount": 900, "product_data": {"name": "once"}}
        )
        code, out, err = account.ledger(
            "stripe", "setup", "--url", URL, STRIPE_PRICE_ID=one_time.id
        )
        assert (code, err) == (1, "")
        assert f"price_not_recurring: price {one_time.id} is not recurring" in out
        assert len(account.endpoints()) == 1  # the rest was still set up

    @staticmethod
    def _config(account: Account) -> str:
        [config] = account.client.v1.billing_portal.configurations.list().data
        return str(config.id)


class TestCheck:
    def test_an_account_set_up_by_the_ledger_is_green(self, account: Account) -> None:
        assert account.ledger("stripe", "setup", "--url", URL)[0] == 0
        assert account.check() == (0, [])
        assert account.check(STRIPE_AUTOMATIC_TAX="true") == (0, [])
        code, out, _ = account.ledger("stripe", "check", "--url", URL)
        assert (code, out.strip()) == (0, "ok: the account has what the ledger needs")

    def test_an_empty_account_lacks_the_endpoint_and_the_portal(self, account: Account) -> None:
        code, out, err = account.ledger("stripe", "check")
        assert (code, err) == (1, "")
        assert [line.split(":")[0] for line in out.splitlines()] == [
            "endpoint_missing",
            "portal_configuration_missing",
        ]

    def test_a_dashboard_endpoint_on_the_default_version_is_reported(
        self, account: Account
    ) -> None:
        account.ledger("stripe", "setup", "--url", "https://elsewhere.example.com/hooks")
        unpinned = account.client.v1.webhook_endpoints.create(
            params={"url": URL, "enabled_events": ["invoice.paid"]}
        )
        # Without --url, check reads the endpoint setup marked, which is fine.
        assert account.check() == (0, [])
        code, out, _ = account.ledger("stripe", "check", "--url", URL)
        assert code == 1
        lines = out.splitlines()
        assert lines[0] == (
            f"endpoint_unpinned: webhook endpoint {unpinned.id} has no api_version: events "
            f"come in the account's default version, not {PINNED_API_VERSION}"
        )
        missing = {line.rsplit(" ", 1)[1] for line in lines if line.startswith("event_not_")}
        assert missing == HANDLED_EVENT_TYPES - {"invoice.paid"}

    def test_another_version_a_bad_price_and_tax_without_address(self, account: Account) -> None:
        every_handled: list[Any] = sorted(HANDLED_EVENT_TYPES)  # the SDK types them as literals
        account.client.v1.webhook_endpoints.create(
            params={
                "url": URL,
                "enabled_events": every_handled,
                "api_version": "2025-03-31.basil",
            }
        )
        account.client.v1.billing_portal.configurations.create(
            params={
                "features": {
                    "customer_update": {"enabled": False},
                    "subscription_cancel": {"enabled": True, "mode": "at_period_end"},
                },
                "metadata": {"renewal_ledger": "portal_configuration"},
            }
        )
        one_time = account.client.v1.prices.create(
            params={"currency": "eur", "unit_amount": 900, "product_data": {"name": "once"}}
        )
        code, out, _ = account.ledger(
            "stripe", "check", "--url", URL, STRIPE_AUTOMATIC_TAX="1", STRIPE_PRICE_ID=one_time.id
        )
        assert code == 1
        assert [line.split(":")[0] for line in out.splitlines()] == [
            "endpoint_api_version",
            "automatic_tax_without_address",
            "price_not_recurring",
        ]

    def test_an_unknown_price_and_an_unset_one(self, account: Account) -> None:
        account.ledger("stripe", "setup", "--url", URL)
        assert account.check(STRIPE_PRICE_ID="price_nope") == (1, ["price_missing"])
        assert account.check(STRIPE_PRICE_ID="") == (1, ["price_missing"])


class TestPriceRecorded:
    """Setup and check record the per-group price they read (issue 13): the billing
    page's estimate reads it from the ledger, never from Stripe."""

    def test_check_records_the_price_it_read_once_the_store_is_migrated(
        self, account: Account
    ) -> None:
        assert account.ledger("stripe", "check", "--json")[2] == ""  # no store: no record
        assert not (account.cwd / "var" / "ledger.sqlite3").exists()
        assert account.ledger("migrate")[0] == 0
        code, _, err = account.ledger("stripe", "setup", "--url", URL)
        assert (code, err) == (0, "")
        url = f"sqlite:///{account.cwd / 'var' / 'ledger.sqlite3'}"
        container = bootstrap(load_settings(database_url=url), embedded_migrate=False)
        try:
            price: StripePrice = container.ledger.repository.get(price_uuid(account.price))
        finally:
            container.close()
        recorded = price.current
        assert recorded is not None
        assert (recorded.unit_amount, recorded.billing_scheme) == (500, "per_unit")
        assert recorded.source.startswith("retrieved:")


class TestBackfill:
    def test_events_missed_are_stored_once_like_deliveries(self, account: Account) -> None:
        customer = account.client.v1.customers.create(params={"email": "o@example.com"})
        account.client.v1.subscriptions.create(
            params={"customer": customer.id, "items": [{"price": account.price, "quantity": 3}]}
        )
        handled = [
            e
            for e in account.client.v1.events.list(params={"limit": 100}).data
            if e.type in HANDLED_EVENT_TYPES
        ]
        assert handled
        since = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
        code, out, err = account.ledger("stripe", "backfill", "--since", since)
        assert (code, err) == (0, "")
        assert f"{len(handled)} stored, 0 already in the inbox" in out
        inbox = self._inbox(account)
        rows = inbox.rows()
        assert {r.delivery.event_id for r in rows} == {e.id for e in handled}
        assert {r.status for r in rows} == {"pending"}
        assert all(r.delivery.api_version == PINNED_API_VERSION for r in rows)
        stored = json.loads(rows[0].delivery.payload)
        assert (stored["object"], stored["id"]) == ("event", rows[0].delivery.event_id)

        code, out, _ = account.ledger("stripe", "backfill", "--since", since)
        assert code == 0
        assert f"0 stored, {len(handled)} already in the inbox" in out
        inbox.database.close()

    def test_a_since_older_than_30_days_is_moved_up_with_a_note(self, account: Account) -> None:
        code, _, err = account.ledger("stripe", "backfill", "--since", "2020-01-01T00:00:00Z")
        assert code == 0
        assert err.startswith("note: Stripe keeps events for 30 days: reading from ")
        assert err.strip().endswith("not 2020-01-01T00:00:00+00:00")
        [listed] = [
            e for e in account.admin.get("/_double/requests").json() if e["method"] == "GET"
        ]
        oldest = int(listed["params"]["created"]["gte"])
        assert datetime.now(UTC).timestamp() - oldest < 30 * 86_400

    @staticmethod
    def _inbox(account: Account) -> StripeInbox:
        url = f"sqlite:///{account.cwd / 'var' / 'ledger.sqlite3'}"
        return StripeInbox(open_database(parse_database_url(url)))


def test_one_line_errors_and_their_exit_codes(account: Account) -> None:
    keyless = {"STRIPE_API_KEY": ""}
    future = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    cases: list[tuple[tuple[str, ...], dict[str, str], int, str]] = [
        (("stripe", "setup", "--url", URL), keyless, 78, "STRIPE_API_KEY"),
        (("stripe", "check"), keyless, 78, "STRIPE_API_KEY"),
        (("stripe", "setup"), {}, 2, "--url"),
        (("stripe", "setup", "--url", "ledger.example.com"), {}, 2, "absolute http(s) URL"),
        (("stripe", "backfill", "--since", "yesterday"), {}, 2, "ISO 8601"),
        (("stripe", "backfill", "--since", future), {}, 2, "in the future"),
    ]
    account.admin.post(
        "/_double/faults", json={"method": "GET", "path": "^/v1/webhook_endpoints$", "status": 500}
    ).raise_for_status()
    cases.append((("stripe", "check"), {}, 1, "ledger: stripe: "))
    for args, env, expected, mentions in cases:
        code, _, err = account.ledger(*args, **env)
        assert code == expected, (args, err)
        assert len(err.strip().splitlines()) == 1, err
        assert mentions in err, err


def test_a_worker_started_after_downtime_backfills_once_by_itself(account: Account) -> None:
    assert account.ledger("migrate")[0] == 0
    inbox = TestBackfill._inbox(account)
    last = datetime.now(UTC) - timedelta(hours=3)
    inbox.insert(
        InboxDelivery(
            event_id="evt_BeforeTheOutage",
            type="customer.created",
            api_version=PINNED_API_VERSION,
            created=int(last.timestamp()),
            livemode=False,
            account=None,
            payload=b"{}",
            received_at=last.isoformat(),
        )
    )
    # While the ledger was down: a subscription Stripe could not tell it about.
    customer = account.client.v1.customers.create(params={"metadata": {"organizer_id": "org-w"}})
    sub = account.client.v1.subscriptions.create(
        params={
            "customer": customer.id,
            "items": [{"price": account.price, "quantity": 3}],
            "metadata": {"organizer_id": "org-w"},
        }
    )
    env = {"LEDGER_BACKFILL_AFTER": "1h", "LEDGER_WORKER_POLL_S": "0.1"}
    with ledger_worker(cwd=account.cwd, env={**account.env, **env}) as worker:

        def caught_up() -> bool:
            rows = inbox.rows(status="processed")
            return any(r.delivery.type == "customer.subscription.created" for r in rows)

        wait_for(caught_up, what="the worker to backfill and process the subscription")
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=20) == 0
    inbox.database.close()
    code, out, _ = account.ledger("organizer", "show", "org-w", "--json")
    assert code == 0
    stripe_state = json.loads(out)["stripe"]
    assert (stripe_state["subscription_id"], stripe_state["billed_quantity"]) == (sub.id, 3)
    listings = [
        e
        for e in account.admin.get("/_double/requests").json()
        if e["path"] == "/v1/events" and "types" in e["params"]
    ]
    assert len(listings) == 1
