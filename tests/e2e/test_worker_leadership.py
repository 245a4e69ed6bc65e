"""Two `ledger worker` processes on one PostgreSQL: one leads, the other stands by and
takes over when the leader is killed."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest

from adapters.persistence.database import open_database, parse_database_url
from tests.support.postgres import fresh_schema
from tests.support.processes import ledger_env, ledger_worker, run_ledger, wait_for

pytestmark = pytest.mark.postgres

SEED = """
from app.bootstrap import bootstrap
from app.settings import load_settings
from tests.support.histories import seed_history
c = bootstrap(load_settings())
seed_history(c.ledger, organizers=5, steps=40, seed={seed})
print(c.ledger.recorder.max_notification_id())
c.close()
"""


def seed(workdir: Path, env: dict[str, str], seed_value: int) -> int:
    done = subprocess.run(
        [sys.executable, "-c", SEED.format(seed=seed_value)],
        cwd=workdir,
        env=ledger_env(env),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return int(done.stdout.strip())


def renewals_position(url: str) -> int:
    database = open_database(parse_database_url(url))
    try:
        with database.transaction() as cursor:
            row = cursor.execute(
                "SELECT notification_id FROM read_model_tracking WHERE projection = 'renewals'"
            ).fetchone()
        return 0 if row is None else int(row["notification_id"])
    finally:
        database.close()


def test_the_standby_takes_over_when_the_leader_is_killed(
    tmp_path: Path, postgres_url: str
) -> None:
    with fresh_schema(postgres_url) as url:
        env = {"LEDGER_DATABASE_URL": url, "LEDGER_WORKER_POLL_S": "0.1"}
        assert run_ledger("migrate", cwd=tmp_path, env=env).returncode == 0
        first_log, second_log = tmp_path / "w1.log", tmp_path / "w2.log"
        with ledger_worker(cwd=tmp_path, env=env, log=first_log) as first:
            wait_for(lambda: "this worker is the leader" in first_log.read_text(), what="a leader")
            with ledger_worker(cwd=tmp_path, env=env, log=second_log) as second:
                wait_for(lambda: "standing by" in second_log.read_text(), what="a standby")
                last = seed(tmp_path, env, 1)
                wait_for(lambda: renewals_position(url) >= last, what="the leader to project")
                assert "this worker is the leader" not in second_log.read_text()

                first.send_signal(signal.SIGKILL)
                first.wait(timeout=10)
                # The bound: the standby leads within 15 s of the leader's death.
                wait_for(
                    lambda: "this worker is the leader" in second_log.read_text(),
                    timeout=15,
                    what="the standby to take over",
                )
                last = seed(tmp_path, env, 2)
                wait_for(lambda: renewals_position(url) >= last, what="the new leader to project")
                second.send_signal(signal.SIGTERM)
                assert second.wait(timeout=20) == 0
