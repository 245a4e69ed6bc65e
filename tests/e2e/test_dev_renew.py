"""`ledger dev renew`: an organizer's next renewal in one command, beside `ledger dev up`.

The double's clock moves through the notice, the renewal and the draft window; the
command waits for the ledger at each step and prints what was billed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from stripe_double import sdk_client
from tests.e2e.dev_stack_support import DevStack, dev_stack
from tests.support.processes import run_ledger

BILLED = re.compile(
    r"billed: invoice (?P<number>\S+-\d{4}) \((?P<id>in_\w+)\), quantity (?P<quantity>\d+),"
    r" (?P<total>EUR [\d,.]+)(?: \(.*\))?, (?P<status>\w+);"
)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevStack]:
    with dev_stack(tmp_path_factory.mktemp("dev-renew")) as running:
        yield running


def renew(stack: DevStack, *args: str) -> list[re.Match[str]]:
    renewed = stack.ledger("dev", "renew", *args)
    assert renewed.returncode == 0, renewed.stdout + renewed.stderr
    assert not renewed.stderr
    return list(BILLED.finditer(renewed.stdout))


class TestDevRenew:
    def test_a_renewal_bills_the_groups_active_now_and_the_ledger_shows_it(
        self, stack: DevStack
    ) -> None:
        organizer = "org-renew"
        assert stack.change_groups(organizer, "activated", "g-1", "g-2").status_code == 200
        stack.enroll(organizer)
        assert stack.change_groups(organizer, "activated", "g-3").status_code == 200

        [billed] = renew(stack, organizer)

        assert billed["quantity"] == "3"
        assert billed["total"] == "EUR 15.00"  # 3 groups at EUR 5.00, no tax configured
        assert billed["status"] == "paid"
        invoices = stack.api(organizer, "/invoices").json()["invoices"]
        renewal = next(i for i in invoices if i["invoice_id"] == billed["id"])
        assert (renewal["status"], renewal["quantity"], renewal["total"]) == ("paid", 3, 1500)
        with sdk_client(stack.double) as stripe:
            assert stripe.v1.invoices.retrieve(billed["id"]).number == billed["number"]

    def test_cycles_renews_that_many_times(self, stack: DevStack) -> None:
        organizer = "org-cycles"
        assert stack.change_groups(organizer, "activated", "g-1").status_code == 200
        stack.enroll(organizer)
        billed = renew(stack, organizer, "--cycles", "2")
        assert len(billed) == 2
        assert len({b["id"] for b in billed}) == 2
        assert [b["quantity"] for b in billed] == ["1", "1"]

    def test_a_subscription_on_a_test_clock_renews_on_its_clock(self, stack: DevStack) -> None:
        price = stack.dev_env()["STRIPE_PRICE_ID"]
        with sdk_client(stack.double) as stripe:
            now = int(stripe.v1.test_helpers.test_clocks.create(params={"frozen_time": 1}).created)
            clock = stripe.v1.test_helpers.test_clocks.create(params={"frozen_time": now})
            customer = stripe.v1.customers.create(
                params={"test_clock": clock.id, "metadata": {"organizer_id": "org-clock"}}
            )
            subscription = stripe.v1.subscriptions.create(
                params={"customer": customer.id, "items": [{"price": price, "quantity": 1}]}
            )
        linked = stack.ledger("enroll-existing", "org-clock", "--subscription", subscription.id)
        assert linked.returncode == 0, linked.stdout + linked.stderr
        [billed] = renew(stack, "org-clock")
        assert billed["status"] == "paid"
        with sdk_client(stack.double) as stripe:
            moved = stripe.v1.test_helpers.test_clocks.retrieve(clock.id)
        assert moved.frozen_time > now + 28 * 86_400

    def test_an_unknown_organizer_is_one_line(self, stack: DevStack) -> None:
        refused = stack.ledger("dev", "renew", "org-nobody", "--timeout", "5")
        assert refused.returncode == 1
        assert refused.stderr.strip().splitlines() == [
            "ledger: the ledger knows no organizer 'org-nobody'"
        ]


def test_without_a_running_stack_it_says_so(tmp_path_factory: pytest.TempPathFactory) -> None:
    refused = run_ledger("dev", "renew", "org-x", cwd=tmp_path_factory.mktemp("no-stack"))
    assert refused.returncode == 1
    assert "no dev stack runs on var/" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1
