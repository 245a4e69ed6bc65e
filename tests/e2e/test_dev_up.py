"""`ledger dev up` (the README's main job): server, worker and — without a Stripe key —
the Stripe double, configured like Stripe; its secrets in var/dev.env, found by every
`ledger` command beside it; one stack per var/."""

from __future__ import annotations

import json
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from stripe_double import sdk_client
from tests.e2e.dev_stack_support import DevStack, dev_stack
from tests.support.processes import LEDGER, free_port, ledger_env, wait_for

STACK_NAMES = {
    "LEDGER_DATABASE_URL",
    "LEDGER_PUBLIC_URL",
    "LEDGER_SERVICE_TOKEN",
    "LEDGER_TOKEN_SECRET",
    "STRIPE_API_BASE",
    "STRIPE_API_KEY",
    "STRIPE_PRICE_ID",
    "STRIPE_WEBHOOK_SECRET",
}


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevStack]:
    with dev_stack(tmp_path_factory.mktemp("dev-up")) as running:
        yield running


class TestDevUp:
    def test_a_newcomer_gets_a_working_system_with_no_stripe_account(self, stack: DevStack) -> None:
        with sdk_client(stack.double) as client:
            price = client.v1.prices.list(params={"limit": 1}).data[0]
            session = client.v1.checkout.sessions.create(
                params={
                    "mode": "subscription",
                    "line_items": [{"price": price.id, "quantity": 2}],
                    "client_reference_id": "org-newcomer",
                    "success_url": "http://example.invalid/done",
                }
            )
        paid = httpx.post(str(session.url), follow_redirects=False)
        assert paid.status_code == 303

        def enrolled() -> bool:
            shown = stack.ledger("organizer", "show", "org-newcomer", "--json")
            return (
                shown.returncode == 0 and json.loads(shown.stdout)["stripe"]["status"] == "active"
            )

        wait_for(enrolled, timeout=60, what="the checkout's webhooks to reach the ledger")

    def test_it_writes_its_secrets_and_addresses_to_var_dev_env(self, stack: DevStack) -> None:
        dev_env = stack.cwd / "var" / "dev.env"
        assert stat.S_IMODE(dev_env.stat().st_mode) == 0o600
        lines = [line for line in dev_env.read_text().splitlines() if not line.startswith("#")]
        assert all(line.startswith("export ") for line in lines)
        values = stack.dev_env()
        assert set(values) == STACK_NAMES
        assert values["STRIPE_PRICE_ID"].startswith("price_")
        assert values["STRIPE_WEBHOOK_SECRET"].startswith("whsec_")
        assert values["LEDGER_PUBLIC_URL"] == stack.base
        said = [line for line in stack.output().splitlines() if "var/dev.env" in line]
        assert len(said) == 1, stack.output()

    def test_a_shell_that_sources_dev_env_gets_every_variable(self, stack: DevStack) -> None:
        shown = subprocess.run(
            ["sh", "-c", ". var/dev.env && env"],
            cwd=stack.cwd,
            env=ledger_env(),
            capture_output=True,
            text=True,
            check=True,
        )
        exported = dict(line.split("=", 1) for line in shown.stdout.splitlines() if "=" in line)
        assert {name: exported[name] for name in STACK_NAMES} == stack.dev_env()


class TestCommandsBesideTheStack:
    """Started in the stack's folder with no LEDGER_/STRIPE_ variable set."""

    def test_token_issue_signs_with_the_stacks_secret(self, stack: DevStack) -> None:
        issued = stack.ledger("token", "issue", "--role", "finance")
        assert issued.returncode == 0, issued.stderr
        answer = httpx.get(
            f"{stack.base}/api/audit/entries",
            headers={"Authorization": f"Bearer {issued.stdout.strip()}"},
            timeout=30,
        )
        assert answer.status_code == 200, answer.text

    def test_reconcile_talks_to_the_stacks_double(self, stack: DevStack) -> None:
        reconciled = stack.ledger("reconcile")
        # 1 means it found differences (other tests' organizers): it did compare.
        assert reconciled.returncode in (0, 1), reconciled.stdout + reconciled.stderr
        assert "subscription(s) compared" in reconciled.stdout, reconciled.stdout
        assert not reconciled.stderr

    def test_enroll_existing_links_a_subscription_of_the_double(self, stack: DevStack) -> None:
        price = stack.dev_env()["STRIPE_PRICE_ID"]
        with sdk_client(stack.double) as client:
            customer = client.v1.customers.create(params={"metadata": {"organizer_id": "org-old"}})
            subscription = client.v1.subscriptions.create(
                params={"customer": customer.id, "items": [{"price": price, "quantity": 1}]}
            )
        linked = stack.ledger("enroll-existing", "org-old", "--subscription", subscription.id)
        assert linked.returncode == 0, linked.stdout + linked.stderr

    def test_ops_commands_read_the_stacks_store(self, stack: DevStack) -> None:
        for command in (("ops", "failures"), ("ops", "drafts")):
            ran = stack.ledger(*command)
            assert ran.returncode == 0, ran.stdout + ran.stderr

    def test_the_service_token_from_dev_env_is_accepted_for_group_changes(
        self, stack: DevStack
    ) -> None:
        answer = stack.change_groups("org-groups", "activated", "g-1")
        assert answer.status_code == 200, answer.text
        assert answer.json()["summary"]["applied"] == 1

    def test_explicit_variables_still_win(self, stack: DevStack) -> None:
        forced = stack.ledger("token", "issue", "--role", "finance")
        other = subprocess.run(
            [*LEDGER, "token", "issue", "--role", "finance"],
            cwd=stack.cwd,
            env=ledger_env({"LEDGER_TOKEN_SECRET": "x" * 40}),
            capture_output=True,
            text=True,
            check=False,
        )
        assert other.returncode == 0, other.stderr
        answer = httpx.get(
            f"{stack.base}/api/audit/entries",
            headers={"Authorization": f"Bearer {other.stdout.strip()}"},
            timeout=30,
        )
        assert answer.status_code == 401
        assert forced.stdout != other.stdout


class TestOneStackPerVar:
    def test_a_second_dev_up_on_the_same_var_refuses_naming_the_running_one(
        self, stack: DevStack
    ) -> None:
        before = stack.dev_env()
        second = subprocess.run(
            [*LEDGER, "dev", "up", "--port", str(free_port())],
            cwd=stack.cwd,
            env=ledger_env(),
            capture_output=True,
            text=True,
            timeout=20,
            check=False,
        )
        assert second.returncode == 1
        lines = second.stderr.strip().splitlines()
        assert len(lines) == 1, second.stderr
        assert f"pid {stack.process.pid}" in lines[0]
        assert stack.base in lines[0]
        # It started nothing: the running stack's double and secrets are untouched.
        assert stack.dev_env() == before
        assert httpx.get(f"{stack.base}/readyz", timeout=5).status_code == 200

    def test_a_lock_left_by_a_killed_process_does_not_block(self, tmp_path: Path) -> None:
        holder = subprocess.Popen(
            [
                *LEDGER[:1],
                "-c",
                "import time; from app.entrypoints.cli.dev.lock import StackLock\n"
                "with StackLock(url='http://killed'):\n"
                "    print('held', flush=True); time.sleep(600)",
            ],
            cwd=tmp_path,
            env=ledger_env(),
            stdout=subprocess.PIPE,
            text=True,
        )
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "held"
        holder.kill()
        holder.wait()
        holder.stdout.close()
        with dev_stack(tmp_path) as started:
            assert started.process.poll() is None
