"""``ledger smoke --url`` against a running ``ledger dev up`` (server, worker and the
Stripe double, as ``make run`` starts them), as a real process: api mode, browser mode
(Debian's Chromium), a broken step, the Pushgateway push, and refused configurations."""

from __future__ import annotations

import base64
import json
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from stripe_double import sdk_client
from tests.e2e.browser_support import CHROMIUM, built_spa
from tests.support.processes import free_port, ledger_dev_up, run_ledger

TOKEN_SECRET = "smoke-test-token-secret-0123456789abcdef"
SERVICE_TOKEN = "smoke-test-service-token-0123"
STEPS = [
    "ready",
    "groups",
    "sign-in",
    "enroll",
    "checkout",
    "billing",
    "group-changes",
    "timeline",
    "cleanup",
]


@dataclass(frozen=True)
class DevStack:
    base: str
    double: str
    cwd: Path


@pytest.fixture(scope="module")
def dev_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevStack]:
    """``ledger dev up`` with known token secrets (it keeps those it is given)."""
    built_spa()
    cwd = tmp_path_factory.mktemp("smoke-stack")
    env = {
        "LEDGER_TOKEN_SECRET": TOKEN_SECRET,
        "LEDGER_SERVICE_TOKEN": SERVICE_TOKEN,
        "LEDGER_WORKER_POLL_S": "0.1",
    }
    with ledger_dev_up(cwd=cwd, env=env) as (base, double):
        yield DevStack(base=base, double=double, cwd=cwd)


@dataclass
class SmokeRun:
    returncode: int
    lines: list[dict[str, Any]]
    stderr: str

    def steps(self) -> dict[str, dict[str, Any]]:
        return {line["step"]: line for line in self.lines if "step" in line}

    @property
    def organizer(self) -> str:
        return str(self.lines[0]["organizer_id"])


def smoke(stack: DevStack, *args: str, **env: str) -> SmokeRun:
    settings = {
        "LEDGER_TOKEN_SECRET": TOKEN_SECRET,
        "LEDGER_SERVICE_TOKEN": SERVICE_TOKEN,
        "LEDGER_LOG_FORMAT": "json",
        **env,
    }
    done = run_ledger(
        "smoke", "--url", stack.base, "--timeout", "60", *args,
        cwd=stack.cwd, env=settings, timeout=240,
    )  # fmt: skip
    lines = [json.loads(line) for line in done.stderr.splitlines() if line.startswith("{")]
    return SmokeRun(done.returncode, lines, done.stderr)


def session_of(run: SmokeRun) -> str:
    found = re.search(r"cs_test_\w+", run.steps()["enroll"]["message"])
    assert found, run.stderr
    return found[0]


class TestApiMode:
    def test_every_step_holds_against_the_dev_stack(self, dev_stack: DevStack) -> None:
        run = smoke(dev_stack)
        assert run.returncode == 0, run.stderr
        steps = run.steps()
        assert list(steps) == STEPS
        assert {line["outcome"] for line in steps.values()} == {"ok"}
        for line in run.lines:  # the JSON log contract (docs/deploy.md, Logs)
            assert {"time", "level", "logger", "message", "organizer_id"} <= line.keys()
        assert run.lines[-1]["outcome"] == "passed"
        # What Stripe (the double) was left with: the session expired, the subscription
        # the smoke paid for canceled.
        with sdk_client(dev_stack.double) as stripe:
            assert stripe.v1.checkout.sessions.retrieve(session_of(run)).status == "expired"
            mine = [
                s
                for s in stripe.v1.subscriptions.list(params={"status": "all", "limit": 100})
                if s.to_dict()["metadata"].get("organizer_id") == run.organizer
            ]
        assert [s.status for s in mine] == ["canceled"]

    def test_a_wrong_service_token_fails_the_groups_step(self, dev_stack: DevStack) -> None:
        run = smoke(dev_stack, LEDGER_SERVICE_TOKEN="not-the-service-token-at-all")
        assert run.returncode == 1
        steps = run.steps()
        assert list(steps) == ["ready", "groups", "cleanup"]
        assert steps["groups"]["outcome"] == "failed"
        assert steps["groups"]["level"] == "ERROR"
        assert "HTTP 401" in steps["groups"]["message"]
        assert steps["cleanup"]["outcome"] == "skipped"
        assert run.lines[-1]["failed_steps"] == ["groups"]


class TestBrowserMode:
    def test_every_step_holds_in_chromium(self, dev_stack: DevStack, tmp_path: Path) -> None:
        shots = tmp_path / "shots"
        run = smoke(
            dev_stack,
            "--mode", "browser", "--screenshots", str(shots),
            LEDGER_SMOKE_CHROMIUM=str(CHROMIUM),
        )  # fmt: skip
        assert run.returncode == 0, run.stderr
        assert list(run.steps()) == STEPS
        assert "paid on the Checkout page" in run.steps()["checkout"]["message"]
        with sdk_client(dev_stack.double) as stripe:
            assert stripe.v1.checkout.sessions.retrieve(session_of(run)).status == "complete"
        assert [p.name for p in sorted(shots.iterdir())] == [
            "01-sign-in.png",
            "02-checkout-page.png",
            "03-enrolled.png",
            "04-billing.png",
            "05-timeline.png",
        ]


@dataclass
class Pushgateway:
    """A stand-in Pushgateway that records each push (method, path, body)."""

    pushes: list[tuple[str, str, str]] = field(default_factory=list)
    url: str = ""

    def gauges(self, index: int) -> dict[str, float]:
        body = self.pushes[index][2]
        return {
            sample.name: sample.value
            for family in text_string_to_metric_families(body)
            for sample in family.samples
        }


@pytest.fixture
def pushgateway() -> Iterator[Pushgateway]:
    gateway = Pushgateway()

    class Handler(BaseHTTPRequestHandler):
        def _record(self) -> None:
            size = int(self.headers.get("Content-Length", 0))
            gateway.pushes.append((self.command, self.path, self.rfile.read(size).decode()))
            self.send_response(200)
            self.end_headers()

        do_POST = do_PUT = _record

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    gateway.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield gateway
    finally:
        server.shutdown()
        server.server_close()


class TestPushgateway:
    def test_each_run_pushes_its_gauges_and_a_failure_keeps_the_last_success(
        self, dev_stack: DevStack, pushgateway: Pushgateway
    ) -> None:
        passed = smoke(dev_stack, LEDGER_SMOKE_PUSHGATEWAY_URL=pushgateway.url)
        failed = smoke(
            dev_stack,
            LEDGER_SMOKE_PUSHGATEWAY_URL=pushgateway.url,
            LEDGER_SERVICE_TOKEN="not-the-service-token-at-all",
        )
        assert (passed.returncode, failed.returncode) == (0, 1)
        assert passed.steps()["push"]["outcome"] == "ok"
        instance = base64.urlsafe_b64encode(dev_stack.base.encode()).decode()
        path = f"/metrics/job/ledger-smoke/instance@base64/{instance}"
        # POST (pushadd): what a push leaves out stays at the gateway.
        assert [(method, where) for method, where, _ in pushgateway.pushes] == [("POST", path)] * 2
        first, second = pushgateway.gauges(0), pushgateway.gauges(1)
        assert first["ledger_smoke_last_run_success"] == 1
        assert (
            first["ledger_smoke_last_success_timestamp_seconds"]
            == (first["ledger_smoke_last_run_timestamp_seconds"])
        )
        assert second["ledger_smoke_last_run_success"] == 0
        assert "ledger_smoke_last_success_timestamp_seconds" not in second
        assert (
            second["ledger_smoke_last_run_timestamp_seconds"]
            >= (first["ledger_smoke_last_run_timestamp_seconds"])
        )


class TestRefusedConfiguration:
    """Checked before any request: nothing is created (the URL does not even answer)."""

    @pytest.mark.parametrize(
        ("env", "message"),
        [
            ({"STRIPE_API_KEY": "sk_live_0123456789"}, "test-mode key"),
            ({"LEDGER_TOKEN_SECRET": ""}, "LEDGER_TOKEN_SECRET: must be set"),
            ({"LEDGER_SMOKE_PUSHGATEWAY_URL": "pushgateway:9091"}, "http:// or https://"),
        ],
    )
    def test_an_unsafe_or_missing_setting_exits_78_in_one_line(
        self, tmp_path: Path, env: dict[str, str], message: str
    ) -> None:
        settings = {"LEDGER_TOKEN_SECRET": TOKEN_SECRET, "LEDGER_SERVICE_TOKEN": SERVICE_TOKEN}
        settings.update(env)
        settings = {k: v for k, v in settings.items() if v}
        done = run_ledger(
            "smoke", "--url", f"http://127.0.0.1:{free_port()}", cwd=tmp_path, env=settings
        )
        assert done.returncode == 78, done.stderr
        assert message in done.stderr
        assert len(done.stderr.strip().splitlines()) == 1

    def test_a_url_that_is_not_http_is_a_usage_error(self, tmp_path: Path) -> None:
        done = run_ledger("smoke", "--url", "ledger-server", cwd=tmp_path)
        assert done.returncode == 2
        assert "is not an http:// or https:// URL" in done.stderr
