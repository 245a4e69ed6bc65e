"""Real processes: the worker's /metrics and /healthz, and JSON logs with their context
fields (request_id on the server, event_id in the worker)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from adapters.persistence.database import open_database, parse_database_url
from adapters.persistence.inbox import StripeInbox
from app.bootstrap import Container
from app.entrypoints.worker.worker import Heartbeats, Worker
from tests.support.api import TOKEN_SECRET, bearer
from tests.support.inbox import deliver
from tests.support.postgres import fresh_schema
from tests.support.processes import free_port, ledger_server, ledger_worker, run_ledger, wait_for
from tests.support.stripe_payloads import subscription_event


def json_lines(log: Path) -> list[dict[str, Any]]:
    """Every line the process wrote, each of which must be one JSON object."""
    lines = [line for line in log.read_text().splitlines() if line.strip()]
    return [json.loads(line) for line in lines]


def get(url: str) -> httpx.Response | None:
    try:
        return httpx.get(url, timeout=2)
    except httpx.HTTPError:
        return None


class TestWorkerEndpoint:
    def test_the_leader_serves_metrics_and_health_and_logs_json_with_the_event_id(
        self, tmp_path: Path
    ) -> None:
        port = free_port()
        url = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
        env = {
            "LEDGER_DATABASE_URL": url,
            "LEDGER_WORKER_METRICS_PORT": str(port),
            "LEDGER_LOG_FORMAT": "json",
            "LEDGER_WORKER_POLL_S": "0.1",
        }
        assert run_ledger("migrate", cwd=tmp_path, env=env).returncode == 0
        database = open_database(parse_database_url(url))
        broken = subscription_event("basil", event_id="evt_broken_1")
        del broken["data"]["object"]["items"]
        deliver(StripeInbox(database), broken)
        log = tmp_path / "worker.log"
        with ledger_worker(cwd=tmp_path, env=env, log=log):
            base = f"http://127.0.0.1:{port}"
            wait_for(lambda: (r := get(f"{base}/healthz")) is not None and r.status_code == 200)
            health = httpx.get(f"{base}/healthz").json()
            assert health == {"status": "ok", "role": "leader", "stale": []}
            wait_for(lambda: "ledger_worker_leader 1.0" in httpx.get(f"{base}/metrics").text)
            row = StripeInbox(database)
            wait_for(lambda: (r := row.get("evt_broken_1")) is not None and r.status == "failed")
        database.close()
        lines = json_lines(log)
        assert all({"time", "level", "logger", "message"} <= set(line) for line in lines)
        assert all(line["time"].endswith("Z") for line in lines)
        failed = [line for line in lines if line.get("event_id") == "evt_broken_1"]
        assert failed, "the translation failure was not logged with its event id"
        assert failed[0]["level"] == "WARNING"
        assert failed[0]["logger"] == "ledger.inbox"

    @pytest.mark.postgres
    def test_a_standby_is_alive_and_says_it_does_not_lead(
        self, tmp_path: Path, postgres_url: str
    ) -> None:
        with fresh_schema(postgres_url) as url:
            common = {"LEDGER_DATABASE_URL": url, "LEDGER_WORKER_POLL_S": "0.1"}
            assert run_ledger("migrate", cwd=tmp_path, env=common).returncode == 0
            leader_port, standby_port = free_port(), free_port()
            leader_env = {**common, "LEDGER_WORKER_METRICS_PORT": str(leader_port)}
            standby_env = {**common, "LEDGER_WORKER_METRICS_PORT": str(standby_port)}
            with ledger_worker(cwd=tmp_path, env=leader_env, log=tmp_path / "leader.log"):
                leader = f"http://127.0.0.1:{leader_port}"
                wait_for(
                    lambda: (
                        (r := get(f"{leader}/healthz")) is not None and r.json()["role"] == "leader"
                    )
                )
                with ledger_worker(cwd=tmp_path, env=standby_env, log=tmp_path / "standby.log"):
                    standby = f"http://127.0.0.1:{standby_port}"
                    wait_for(lambda: (r := get(f"{standby}/healthz")) is not None)
                    response = httpx.get(f"{standby}/healthz")
                    assert response.status_code == 200
                    assert response.json()["role"] == "standby"
                    assert "ledger_worker_leader 0.0" in httpx.get(f"{standby}/metrics").text


class TestLiveness:
    def test_a_loop_that_stops_beating_fails_the_probe(self, container: Container) -> None:
        worker = Worker(container)
        worker.beats = Heartbeats(deadline_s=0.05)
        worker.leading = True
        for name in worker.loops:
            worker.beats.beat(name)
        assert worker.health() == (True, {"role": "leader", "stale": []})
        wait_for(lambda: not worker.health()[0])
        for name in worker.loops:
            if name != "renewals":
                worker.beats.beat(name)
        assert worker.health() == (False, {"role": "leader", "stale": ["renewals"]})

    def test_a_standby_that_stops_polling_the_election_fails_the_probe(
        self, container: Container
    ) -> None:
        worker = Worker(container)
        worker.beats = Heartbeats(deadline_s=60)
        assert worker.health() == (False, {"role": "standby", "stale": ["election"]})
        worker.beats.beat("election")
        assert worker.health() == (True, {"role": "standby", "stale": []})


def test_the_server_logs_json_with_the_request_id_it_answered(tmp_path: Path) -> None:
    env = {
        "LEDGER_LOG_FORMAT": "json",
        "LEDGER_TOKEN_SECRET": TOKEN_SECRET,
        "STRIPE_API_KEY": "sk_test_unreachable",
        "STRIPE_API_BASE": "http://127.0.0.1:9",
        "STRIPE_PRICE_ID": "price_x",
    }
    log = tmp_path / "server.log"
    with ledger_server(cwd=tmp_path, env=env, log=log) as base:
        response = httpx.post(
            f"{base}/api/organizers/org-j/enrollment",
            json={},
            headers={**bearer("org-j"), "X-Request-Id": "trace-me-42"},
            timeout=30,
        )
    assert response.status_code == 503
    assert response.headers["x-request-id"] == "trace-me-42"
    lines = json_lines(log)
    stripe_failures = [line for line in lines if line.get("request_id") == "trace-me-42"]
    assert "ledger.api" in {line["logger"] for line in stripe_failures}
    assert any(line["logger"].startswith("uvicorn") for line in lines)
