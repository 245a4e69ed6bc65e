"""The double keeps its state in a file: a restarted double has the world it had.

Through the real SDK over HTTP: objects, clocks (global and test clocks), config,
webhook endpoints and their secrets, idempotency keys and unsent deliveries all come back.
"""

from __future__ import annotations

import signal
import stat
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from stripe_double import RunningDouble, running_double, sdk_client
from stripe_double.idempotency import StoredResponse
from stripe_double.persist import TRANSIENT, decode, encode
from tests.support.processes import LEDGER, free_port, ledger_env, wait_for

if TYPE_CHECKING:
    from tests.e2e.stripe_double_support import WebhookReceiver

pytest_plugins = ["tests.e2e.stripe_double_support"]

JAN_15 = int(datetime(2026, 1, 15, tzinfo=UTC).timestamp())
FEB_15 = int(datetime(2026, 2, 15, tzinfo=UTC).timestamp())
SUBSCRIBE_KEY = "persist-subscribe-1"


def comparable(server: RunningDouble) -> dict[str, Any]:
    """Everything the file must bring back, as Python values (types included)."""
    double = server.double
    with double.state.lock:
        state = {k: v for k, v in vars(double.state).items() if k not in TRANSIENT}
        # Compare through a deep copy: the live dicts keep changing after this returns.
        state = decode(encode(state))
    return {
        "state": state,
        "idempotency": double.idempotency.stored(),
        "webhooks": [replace(d, due=0.0) for d in double.webhooks.queued()],
    }


def build_world(base: str, receiver_url: str) -> dict[str, Any]:
    """A bit of everything: a clock-scoped renewal, a Checkout, config, queued webhooks."""
    with httpx.Client(base_url=base, timeout=30) as admin, sdk_client(base) as stripe:
        admin.post("/_double/clock", json={"now": JAN_15}).raise_for_status()
        price = admin.post("/_double/seed", json={"unit_amount": 500}).json()["price"]
        endpoint_params: Any = {"url": receiver_url, "enabled_events": ["*"]}
        endpoint = stripe.v1.webhook_endpoints.create(params=endpoint_params)
        clock = stripe.v1.test_helpers.test_clocks.create(params={"frozen_time": JAN_15})
        customer = stripe.v1.customers.create(params={"test_clock": clock.id})
        subscription = stripe.v1.subscriptions.create(
            params={"customer": customer.id, "items": [{"price": price, "quantity": 2}]},
            options={"idempotency_key": SUBSCRIBE_KEY},
        )
        stripe.v1.test_helpers.test_clocks.advance(clock.id, params={"frozen_time": FEB_15 + 7200})
        session = stripe.v1.checkout.sessions.create(
            params={
                "mode": "subscription",
                "line_items": [{"price": price, "quantity": 3}],
                "success_url": "http://example.invalid/done",
            }
        )
        assert httpx.post(str(session.url), follow_redirects=False).status_code == 303
        admin.post(f"/_double/customers/{customer.id}/fail_payments", json={"fail": True})
        admin.post("/_double/config", json={"upcoming_days": 5}).raise_for_status()
        flushed = admin.post("/_double/webhooks/flush", json={"timeout": 20}).json()
        assert flushed["flushed"], flushed
        # From here on deliveries wait in the queue: the restart must not lose them.
        admin.post("/_double/config", json={"webhooks": {"paused": True}}).raise_for_status()
        late = stripe.v1.customers.create(params={"email": "late@example.com"})
    return {
        "price": price,
        "endpoint": endpoint.id,
        "clock": clock.id,
        "subscription": subscription.id,
        "late_customer": late.id,
    }


def listed(base: str) -> dict[str, Any]:
    with sdk_client(base) as stripe:
        return {
            kind: [o.to_dict() for o in getattr(stripe.v1, kind).list(params={"limit": 100})]
            for kind in ("customers", "subscriptions", "invoices", "prices", "events")
        }


@pytest.fixture
def state_file(tmp_path: Path) -> Path:
    return tmp_path / "var" / "stripe-double.json"


class TestARestartedDouble:
    @pytest.fixture
    def restarted(
        self, state_file: Path, receiver: WebhookReceiver
    ) -> Iterator[tuple[RunningDouble, dict[str, Any], dict[str, Any], dict[str, Any]]]:
        with running_double(state_file=state_file) as first:
            ids = build_world(first.base_url, receiver.url)
            before, api = comparable(first), listed(first.base_url)
        with running_double(state_file=state_file) as second:
            yield second, ids, before, api

    def test_it_has_every_object_clock_key_and_queued_delivery(self, restarted: Any) -> None:
        second, _, before, api = restarted
        assert comparable(second) == before
        assert before["webhooks"], "the world had no queued delivery to keep"
        assert listed(second.base_url) == api

    def test_its_clocks_stand_where_they_stood(self, restarted: Any) -> None:
        second, ids, _, _ = restarted
        with httpx.Client(base_url=second.base_url, timeout=30) as admin:
            assert admin.get("/_double/clock").json()["now"] == JAN_15
        with sdk_client(second.base_url) as stripe:
            clock = stripe.v1.test_helpers.test_clocks.retrieve(ids["clock"])
        assert clock.frozen_time == FEB_15 + 7200

    def test_an_idempotency_key_replays_its_first_answer(self, restarted: Any) -> None:
        second, ids, _, _ = restarted
        with sdk_client(second.base_url) as stripe:
            sub = stripe.v1.subscriptions.retrieve(ids["subscription"])
        params = {"customer": sub.customer, "items": [{"price": ids["price"], "quantity": 2}]}
        replayed = httpx.post(
            f"{second.base_url}/v1/subscriptions",
            data={
                "customer": params["customer"],
                "items[0][price]": ids["price"],
                "items[0][quantity]": "2",
            },
            headers={"Authorization": "Bearer sk_test_double", "Idempotency-Key": SUBSCRIBE_KEY},
            timeout=30,
        )
        assert replayed.headers.get("Idempotent-Replayed") == "true"
        assert replayed.json()["id"] == ids["subscription"]

    def test_queued_deliveries_are_sent_once_unpaused(
        self, restarted: Any, receiver: WebhookReceiver
    ) -> None:
        second, ids, _, _ = restarted
        with httpx.Client(base_url=second.base_url, timeout=30) as admin:
            admin.post("/_double/config", json={"webhooks": {"paused": False}})
            assert admin.post("/_double/webhooks/flush", json={"timeout": 20}).json()["flushed"]
        created = [e for e in receiver.events() if e["type"] == "customer.created"]
        assert ids["late_customer"] in [e["data"]["object"]["id"] for e in created]

    def test_the_webhook_secret_still_signs(self, restarted: Any) -> None:
        second, ids, before, _ = restarted
        secrets = second.double.state.endpoint_secrets
        assert secrets[ids["endpoint"]] == before["state"]["endpoint_secrets"][ids["endpoint"]]


class TestTheStateFile:
    def test_it_is_private_and_written_whole(self, state_file: Path) -> None:
        with running_double(state_file=state_file) as server:
            httpx.post(f"{server.base_url}/_double/seed", json={}).raise_for_status()
        assert stat.S_IMODE(state_file.stat().st_mode) == 0o600
        assert list(state_file.parent.iterdir()) == [state_file]  # no temporary left

    def test_a_killed_double_keeps_what_it_answered_half_a_second_before(
        self, tmp_path: Path, state_file: Path
    ) -> None:
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        argv = [*LEDGER, "dev", "stripe", "--port", str(port), "--state-file", str(state_file)]

        def start() -> subprocess.Popen[bytes]:
            process = subprocess.Popen(
                argv, cwd=tmp_path, env=ledger_env(), stderr=subprocess.DEVNULL
            )
            wait_for(lambda: _answers(base), what="the double")
            return process

        first = start()
        try:
            with sdk_client(base) as stripe:
                customer = stripe.v1.customers.create(params={"email": "kept@example.com"})
            wait_for(
                lambda: state_file.exists() and customer.id.encode() in state_file.read_bytes(),
                what="the state file to hold the customer",
            )
        finally:
            first.send_signal(signal.SIGKILL)
            first.wait()
        second = start()
        try:
            with sdk_client(base) as stripe:
                assert stripe.v1.customers.retrieve(customer.id).email == "kept@example.com"
        finally:
            second.terminate()
            second.wait(timeout=20)

    def test_a_file_that_is_not_a_snapshot_stops_the_start_in_one_line(
        self, tmp_path: Path, state_file: Path
    ) -> None:
        state_file.parent.mkdir(parents=True)
        state_file.write_text('{"format": 99}')
        started = subprocess.run(
            [*LEDGER, "dev", "stripe", "--port", str(free_port()), "--state-file", str(state_file)],
            cwd=tmp_path,
            env=ledger_env(),
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        assert started.returncode == 1
        assert "Traceback" not in started.stderr
        assert started.stderr.strip().splitlines()[-1].startswith("ledger: ")
        assert "ledger dev reset" in started.stderr


class TestTheEncoding:
    def test_a_value_it_cannot_store_fails_the_save_naming_its_type(self) -> None:
        with pytest.raises(TypeError, match="lock"):
            encode({"lock": threading.Lock()})

    def test_loading_never_builds_a_class_outside_the_double(self) -> None:
        raw = b'{"__double__": "dataclass", "type": "os:system", "fields": {}}'
        with pytest.raises(ValueError, match="not a class of the double"):
            decode(raw)

    def test_a_file_from_before_the_double_was_its_own_package_still_loads(self) -> None:
        stored = StoredResponse("req_1", "POST", "/v1/customers", {}, 200, b"{}", None)
        current = encode(stored)
        former = current.replace(b'"stripe_double.', b'"adapters.stripe.double.')
        assert former != current
        assert decode(former) == stored

    def test_sets_and_bytes_come_back_as_themselves(self) -> None:
        value = {"ids": {"b", "a"}, "frozen": frozenset({1}), "body": b"\x00\xff"}
        assert decode(encode(value)) == value


def _answers(base: str) -> bool:
    try:
        return httpx.get(f"{base}/_double/config", timeout=1).status_code == 200
    except httpx.TransportError:
        return False
