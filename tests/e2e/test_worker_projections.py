"""The worker's projections as real processes: follow, survive SIGKILL, equal a replay."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest

from adapters.persistence.database import open_database, parse_database_url
from projections.runner import READ_MODELS
from tests.support.postgres import fresh_schema
from tests.support.processes import ledger_env, ledger_worker, run_ledger, wait_for

SEED = """
from app.bootstrap import bootstrap
from app.settings import load_settings
from tests.support.histories import seed_bulk, seed_history
c = bootstrap(load_settings())
c.migrate()
seed_history(c.ledger, organizers=25, steps={steps}, seed=11)
seed_bulk(c.ledger, organizers={bulk}, changes=500)
print(c.ledger.recorder.max_notification_id())
c.close()
"""


def seed(workdir: Path, env: dict[str, str], steps: int, bulk: int = 0) -> int:
    result = subprocess.run(
        [sys.executable, "-c", SEED.format(steps=steps, bulk=bulk)],
        cwd=workdir,
        env=ledger_env(env),
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    return int(result.stdout.strip())


def positions(url: str) -> dict[str, int]:
    database = open_database(parse_database_url(url))
    try:
        with database.transaction() as cursor:
            rows = cursor.execute(
                "SELECT projection, notification_id FROM read_model_tracking"
            ).fetchall()
        return {str(r["projection"]): int(r["notification_id"]) for r in rows}
    finally:
        database.close()


def log_end(url: str) -> int:
    """The newest notification id: the seed's, then whatever the reactions recorded (the
    process manager records decisions, e.g. about the seeded renewal invoices)."""
    parsed = parse_database_url(url)
    table = "stored_events" if parsed.backend == "sqlite" else "renewalledger_events"
    column = "rowid" if parsed.backend == "sqlite" else "notification_id"
    database = open_database(parsed)
    try:
        with database.transaction() as cursor:
            row = cursor.execute(f"SELECT MAX({column}) AS n FROM {table}").fetchone()
        return 0 if row is None or row["n"] is None else int(row["n"])
    finally:
        database.close()


def caught_up(url: str) -> bool:
    """Every read model and the reactions at the end of the log. Positions are read first:
    the reactions record their position after the events they append, so an end read
    afterwards includes those."""
    at = positions(url)
    end = log_end(url)
    return all(at.get(name) == end for name in (*READ_MODELS, "process_manager"))


def crash_and_recover(workdir: Path, env: dict[str, str], url: str) -> None:
    last = seed(workdir, env, steps=300, bulk=40)  # ~20k events
    env = {**env, "LEDGER_PROJECTION_BATCH_SIZE": "5", "LEDGER_WORKER_POLL_S": "0.05"}
    with ledger_worker(cwd=workdir, env=env, log=workdir / "worker-1.log") as worker:
        wait_for(lambda: any(0 < p < last for p in positions(url).values()), what="a first batch")
        worker.send_signal(signal.SIGKILL)  # mid-catch-up: no chance to finish anything
        worker.wait(timeout=20)
    assert min(positions(url).values(), default=0) < last, "killed too late to prove anything"
    # The restarted worker resumes from the killed one's positions in batches of 50: still
    # hundreds of commits, a tenth of the time of 5 (that batch size was for the kill).
    env = {**env, "LEDGER_PROJECTION_BATCH_SIZE": "50"}
    with ledger_worker(cwd=workdir, env=env, log=workdir / "worker-2.log") as worker:
        wait_for(lambda: caught_up(url), timeout=120, what="the restarted worker to catch up")
        assert log_end(url) >= last
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=20) == 0
    verify = run_ledger("replay", "--verify", cwd=workdir, env=env, timeout=300)
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert "DIFFERENT" not in verify.stdout


def test_a_killed_worker_resumes_and_equals_a_fresh_replay_on_sqlite(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'var' / 'ledger.sqlite3'}"
    crash_and_recover(tmp_path, {"LEDGER_DATABASE_URL": url}, url)


@pytest.mark.postgres
def test_a_killed_worker_resumes_and_equals_a_fresh_replay_on_postgres(
    tmp_path: Path, postgres_url: str
) -> None:
    with fresh_schema(postgres_url) as url:
        crash_and_recover(tmp_path, {"LEDGER_DATABASE_URL": url}, url)


def test_replay_verify_reports_a_tampered_read_model(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'var' / 'ledger.sqlite3'}"
    env = {"LEDGER_DATABASE_URL": url}
    seed(tmp_path, env, steps=200)
    assert run_ledger("replay", cwd=tmp_path, env=env).returncode == 0
    database = open_database(parse_database_url(url))
    with database.transaction() as cursor:
        cursor.execute("UPDATE rm_renewals SET active_groups = active_groups + 1")
    database.close()
    verify = run_ledger("replay", "--verify", "--projection", "renewals", cwd=tmp_path, env=env)
    assert verify.returncode == 1
    assert "DIFFERENT" in verify.stdout


@pytest.mark.postgres
def test_the_worker_recovers_after_its_database_connections_are_cut(
    tmp_path: Path, postgres_url: str
) -> None:
    import psycopg

    with fresh_schema(postgres_url) as url:
        env = {"LEDGER_DATABASE_URL": url, "LEDGER_WORKER_POLL_S": "0.1"}
        first = seed(tmp_path, env, steps=50)
        # libpq names the worker's sessions, so only they are cut (not other tests' ones).
        name = f"cut-{tmp_path.name}"[:60]
        with ledger_worker(cwd=tmp_path, env={**env, "PGAPPNAME": name}) as worker:
            # The reactor records decisions after the seed, so the model passes its end.
            wait_for(lambda: positions(url).get("renewals", 0) >= first, what="the first catch-up")
            with psycopg.connect(postgres_url, autocommit=True) as admin:
                cut = admin.execute(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    " AND backend_type = 'client backend' AND application_name = %s",
                    (name,),
                ).fetchone()
            assert cut is not None
            assert cut[0] > 0  # the worker's connections (LISTEN included) are gone
            # The leader's lock went with its session: it steps down and is elected again
            # (a standby could have taken over), without a restart of the process.
            log = tmp_path / "worker.log"
            wait_for(lambda: "stepped down" in log.read_text(), what="the leader to step down")
            wait_for(
                lambda: log.read_text().count("this worker is the leader") == 2,
                what="the worker to be elected again",
            )
            last = seed(tmp_path, env, steps=50)
            wait_for(
                lambda: caught_up(url),
                timeout=90,
                what="the worker to reconnect and project the new events",
            )
            assert log_end(url) >= last
            worker.send_signal(signal.SIGTERM)
            assert worker.wait(timeout=20) == 0
