"""`ledger` as an operator runs it: real processes, real stores, real HTTP."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.bootstrap import bootstrap
from app.settings import load_settings
from domain.billing import SubscriptionSnapshot
from domain.groups import GroupAction
from domain.organizer import Organizer
from domain.renewal import ProrationPolicy, SyncTrigger
from tests.support.postgres import fresh_schema
from tests.support.processes import ledger_server, run_ledger


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    return tmp_path


class TestServeOnTheEmbeddedDefault:
    def test_readyz_is_200_and_the_database_file_is_created_under_var(self, workdir: Path) -> None:
        with ledger_server(cwd=workdir) as base:
            assert httpx.get(f"{base}/healthz").json() == {"status": "ok"}
            ready = httpx.get(f"{base}/readyz")
            assert ready.status_code == 200
        assert (workdir / "var" / "ledger.sqlite3").exists()

    def test_unknown_api_routes_answer_problem_json(self, workdir: Path) -> None:
        with ledger_server(cwd=workdir) as base:
            response = httpx.get(f"{base}/api/nope")
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["status"] == 404


@pytest.mark.postgres
class TestServeOnPostgres:
    def test_an_unmigrated_database_is_not_ready_until_migrated(
        self, workdir: Path, postgres_url: str
    ) -> None:
        with fresh_schema(postgres_url) as url:
            env = {"LEDGER_DATABASE_URL": url}
            log = workdir / "server.log"
            with ledger_server(cwd=workdir, env=env, log=log) as base:
                response = httpx.get(f"{base}/readyz")
                assert response.status_code == 503
                assert response.headers["content-type"] == "application/problem+json"
                assert "ledger migrate" in response.json()["detail"]
                assert run_ledger("migrate", cwd=workdir, env=env).returncode == 0
                assert httpx.get(f"{base}/readyz").status_code == 200
            assert "run `ledger migrate`" in log.read_text()


def seed_synced_organizer(workdir: Path) -> None:
    """org-9 on the embedded default: three groups, a subscription billed for one, and a
    confirmed quantity sync to three, so every field of ``organizer show`` has a value."""
    container = bootstrap(load_settings(database_url=f"sqlite:///{workdir / 'var' / 'x.db'}"))
    at = datetime(2026, 1, 1, tzinfo=UTC)
    try:
        for index, group in enumerate(["g1", "g2", "g3"]):
            container.ledger.change_group(
                "org-9", action=GroupAction.ACTIVATED, group_id=group,
                change_id=f"c{index}", occurred_at=at,
            )  # fmt: skip
        snapshot = SubscriptionSnapshot(
            subscription_id="sub_9", item_id="si_9", price_id="price_group", status="active",
            quantity=1, current_period_start=at, current_period_end=at + timedelta(days=30),
            observed_at=at,
        )  # fmt: skip

        def observe(organizer: Organizer, now: datetime) -> None:
            organizer.link_stripe_customer("cus_9", source="evt_c", at=now)
            organizer.observe_subscription(snapshot, source="evt_s", at=now)

        def sync(organizer: Organizer, now: datetime) -> None:
            organizer.check_renewal_quantity(
                trigger=SyncTrigger.UPCOMING_INVOICE, cause="evt_u", minimum=1, at=now,
                period_end=snapshot.current_period_end, policy=ProrationPolicy.NONE,
            )  # fmt: skip
            (sync_id,) = organizer.syncs
            organizer.confirm_quantity_sync(sync_id=sync_id, stripe_request_id="req_9", at=now)

        container.ledger.update("org-9", observe, register=True)
        container.ledger.update("org-9", sync)
    finally:
        container.close()
    (workdir / "var" / "x.db").rename(workdir / "var" / "ledger.sqlite3")


def leaves(document: dict[str, Any], path: str = "") -> dict[str, object]:
    """``{"stripe": {"customer_id": …}}`` → ``{"stripe_customer_id": …}``."""
    flat: dict[str, object] = {}
    for key, value in document.items():
        name = f"{path}{key}"
        flat |= leaves(value, f"{name}_") if isinstance(value, dict) else {name: value}
    return flat


def as_text(value: object, *, null: str = "—") -> str:
    """A JSON value as the table writes it: lists comma-joined, null as a dash."""
    if isinstance(value, list):
        return ", ".join(map(str, value))
    return null if value is None else str(value)


def table_cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.split("│")[1:-1]]


class TestOrganizerShow:
    def seed(self, workdir: Path) -> None:
        script = (
            "from datetime import datetime, UTC\n"
            "from app.bootstrap import bootstrap\n"
            "from app.settings import load_settings\n"
            "from domain.groups import GroupAction\n"
            "c = bootstrap(load_settings())\n"
            "for i, g in enumerate(['g2', 'g1']):\n"
            "    c.ledger.change_group('org-7', action=GroupAction.ACTIVATED, group_id=g,\n"
            "        change_id=f'c{i}', occurred_at=datetime(2026, 1, 1, i, tzinfo=UTC))\n"
            "c.close()\n"
        )
        import subprocess
        import sys

        from tests.support.processes import ledger_env

        subprocess.run(
            [sys.executable, "-c", script], cwd=workdir, env=ledger_env(), check=True, timeout=60
        )

    def test_json_has_the_documented_fields(self, workdir: Path) -> None:
        self.seed(workdir)
        result = run_ledger("organizer", "show", "org-7", "--json", cwd=workdir)
        assert result.returncode == 0, result.stderr
        state = json.loads(result.stdout)
        assert state["organizer_id"] == "org-7"
        assert state["active_group_ids"] == ["g1", "g2"]
        assert state["billable_quantity"] == 2
        assert set(state["stripe"]) >= {
            "customer_id",
            "subscription_id",
            "status",
            "billed_quantity",
            "current_period_end",
        }
        assert all(state["stripe"][k] is None for k in ("customer_id", "subscription_id"))

    def test_the_table_shows_every_fact_of_the_json_last_sync_included(self, workdir: Path) -> None:
        seed_synced_organizer(workdir)
        shown = run_ledger("organizer", "show", "org-9", "--json", cwd=workdir)
        state = json.loads(shown.stdout)
        assert state["last_synced_at"] is not None  # the seed reached a confirmed sync
        result = run_ledger("organizer", "show", "org-9", cwd=workdir, env={"COLUMNS": "40"})
        assert result.returncode == 0, result.stderr
        cells = [table_cells(line) for line in result.stdout.splitlines()]
        table = {row[0].replace(" ", "_"): row[1] for row in cells if len(row) == 2}
        facts = leaves(state)
        assert len(facts) > 15
        assert set(table) == set(facts)
        for name, value in facts.items():
            assert table[name] == as_text(value, null="now" if name == "as_of" else "—"), name

    def test_as_of_before_registration_is_unknown(self, workdir: Path) -> None:
        self.seed(workdir)
        result = run_ledger(
            "organizer", "show", "org-7", "--as-of", "2000-01-01T00:00:00Z", cwd=workdir
        )
        assert result.returncode == 1

    def test_an_unknown_organizer_exits_1_with_one_line(self, workdir: Path) -> None:
        result = run_ledger("organizer", "show", "ghost", cwd=workdir)
        assert result.returncode == 1
        assert result.stderr.strip().count("\n") == 0
        assert "ghost" in result.stderr

    @pytest.mark.parametrize("bad", ["yesterday", "2026-13-01T00:00:00Z", "2026-05-01T00:00:00"])
    def test_a_bad_timestamp_exits_2_naming_the_argument(self, workdir: Path, bad: str) -> None:
        result = run_ledger("organizer", "show", "org-7", "--as-of", bad, cwd=workdir)
        assert result.returncode == 2
        assert result.stderr.strip().count("\n") == 0
        assert "--as-of" in result.stderr

    def test_a_bad_database_url_exits_78_with_one_line(self, workdir: Path) -> None:
        result = run_ledger(
            "organizer", "show", "x", cwd=workdir, env={"LEDGER_DATABASE_URL": "mysql://nope"}
        )
        assert result.returncode == 78
        assert result.stderr.strip().count("\n") == 0
        assert "LEDGER_DATABASE_URL" in result.stderr
