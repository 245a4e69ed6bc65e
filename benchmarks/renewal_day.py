"""Renewal day, draft corrections: `renewal_burst.py --mode renewal-day` (issue 10).

Sets up (not timed) ``--subscriptions`` subscriptions on one test clock of the Stripe
double (its own process), half billing their organizer's groups and half one more or
one fewer (the sync ahead was missed), and advances the clock past their common period
end: every renewal draft exists at once. The ledger side holds each organizer with its
snapshot, its groups (before the renewal) and its draft (``invoice.created`` as the
webhook translator reads it). Then, timed, what the worker runs:

1. the ``RenewalReactor`` over the log → a draft correction (an invoice item for the
   difference) and a quantity sync (for the next period) per wrong draft;
2. the read models catch up;
3. ``SyncSender`` and ``CorrectionSender`` (one ``StripeGateway(max_rps=--max-rps)``, as
   ``ledger worker`` shares it) until nothing is pending, the read models following.

The double answers 429 beyond ``--max-rps`` requests per second. Reported: corrections
per second and quantity syncs per second of the same run (first to last request in the
double's log) against ``STRIPE_MAX_RPS``, 429s, and the time from the start of the timed
phase until every draft is right (the last correction's request), checked by listing
every draft: subtotal = unit price x groups.
"""

from __future__ import annotations

import argparse
import random
import threading
import time
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table

from adapters.stripe.gateway import PACING_FACTOR, PINNED_API_VERSION, StripeGateway
from adapters.stripe.translate import translate
from app.bootstrap import Container
from app.services.process.corrections import CorrectionSender
from app.services.process.manager import RenewalReactor, SyncSender
from app.settings import load_settings
from domain.billing import SubscriptionSnapshot
from domain.groups import GroupAction
from domain.organizer import Organizer
from projections.follower import Follower
from projections.runner import LogReader, build_read_models, catch_up

API_KEY = "sk_test_double"
UNIT = 500
DAY = 86_400
SETUP_THREADS = 8
SEND_DEADLINE_S = 1800
CORRECTION = "/v1/invoiceitems"
SYNC = "/v1/subscription_items/"
console = Console(stderr=True)


@dataclass(frozen=True)
class Renewing:
    """One organizer: its subscription, its groups, what Stripe bills, its draft."""

    organizer_id: str
    customer_id: str
    subscription_id: str
    item_id: str
    groups: int
    billed: int


@dataclass
class Phase:
    reactor_s: float = 0.0
    projections_s: float = 0.0
    sending_s: float = 0.0
    started_at: float = 0.0  # wall clock (time.time) when the timed phase began


def _http(base: str) -> httpx.Client:
    return httpx.Client(base_url=base, timeout=60, headers={"Authorization": f"Bearer {API_KEY}"})


def seed_stripe(base: str, count: int, renewal: int) -> tuple[str, str, list[Renewing]]:
    """A daily price and ``count`` subscriptions on one test clock, renewing at
    ``renewal``; half bill their groups, half one more or one fewer. (price, clock, ...)"""
    with httpx.Client(base_url=base, timeout=60) as admin:
        admin.post("/_double/config", json={"quantity_updates_per_hour": None}).raise_for_status()
        seeded = admin.post(
            "/_double/seed", json={"unit_amount": UNIT, "currency": "eur", "interval": "day"}
        )
        price = str(seeded.raise_for_status().json()["price"])
    with _http(base) as http:
        clock = str(
            http.post("/v1/test_helpers/test_clocks", data={"frozen_time": str(renewal - DAY)})
            .raise_for_status()
            .json()["id"]
        )
    rnd = random.Random(11)
    groups = [rnd.randint(2, 5) for _ in range(count)]
    local = threading.local()
    opened: list[httpx.Client] = []
    lock = threading.Lock()

    def create(index: int) -> Renewing:
        if not hasattr(local, "http"):
            local.http = _http(base)
            with lock:
                opened.append(local.http)
        http: httpx.Client = local.http
        wrong = index % 2 == 1
        billed = groups[index] + (1 if index % 4 == 1 else -1) if wrong else groups[index]
        organizer = f"day-org-{index:05d}"
        customer = http.post(
            "/v1/customers", data={"test_clock": clock, "metadata[organizer_id]": organizer}
        )
        body = (
            http.post(
                "/v1/subscriptions",
                data={
                    "customer": customer.raise_for_status().json()["id"],
                    "items[0][price]": price,
                    "items[0][quantity]": str(billed),
                    "metadata[organizer_id]": organizer,
                },
            )
            .raise_for_status()
            .json()
        )
        return Renewing(
            organizer,
            str(body["customer"]),
            str(body["id"]),
            str(body["items"]["data"][0]["id"]),
            groups[index],
            billed,
        )

    try:
        with ThreadPoolExecutor(SETUP_THREADS, thread_name_prefix="seed") as pool:
            return price, clock, list(pool.map(create, range(count)))
    finally:
        for http in opened:
            http.close()


def renewal_drafts(base: str) -> dict[str, dict[str, Any]]:
    """Every renewal draft on the double, by subscription id (100 per page)."""
    found: dict[str, dict[str, Any]] = {}
    params: dict[str, Any] = {"limit": 100, "status": "draft"}
    with _http(base) as http:
        while True:
            page = http.get("/v1/invoices", params=params).raise_for_status().json()
            for invoice in page["data"]:
                if invoice["billing_reason"] == "subscription_cycle":
                    found[invoice["parent"]["subscription_details"]["subscription"]] = invoice
            if not page["has_more"]:
                return found
            params = {**params, "starting_after": page["data"][-1]["id"]}


def seed_ledger(
    container: Container,
    renewing: Sequence[Renewing],
    drafts: dict[str, dict[str, Any]],
    *,
    price: str,
    renewal: int,
) -> None:
    """Organizers built in memory through the real commands (saved 500 per transaction):
    snapshot, groups since before the renewal, then the draft's ``invoice.created``."""
    now = container.ledger.clock()
    period_start = datetime.fromtimestamp(renewal - DAY, tz=UTC)
    organizers = []
    for index, entry in enumerate(renewing):
        organizer = Organizer.register(entry.organizer_id, at=now)
        snapshot = SubscriptionSnapshot(
            subscription_id=entry.subscription_id,
            item_id=entry.item_id,
            price_id=price,
            status="active",
            quantity=entry.billed,
            current_period_start=period_start,
            current_period_end=datetime.fromtimestamp(renewal, tz=UTC),
            observed_at=now,
        )
        organizer.observe_subscription(snapshot, source=f"evt_sub_{index}", at=now)
        for group in range(entry.groups):
            organizer.change_group(
                action=GroupAction.ACTIVATED,
                group_id=f"g{group}",
                change_id=f"chg-{index}-{group}",
                occurred_at=period_start + timedelta(hours=1),
                at=now,
            )
        event = {
            "id": f"evt_created_{index}",
            "object": "event",
            "type": "invoice.created",
            "api_version": PINNED_API_VERSION,
            "created": renewal,
            "data": {"object": drafts[entry.subscription_id]},
        }
        for command in translate(event, group_price_ids=frozenset({price})).commands:
            command.apply(organizer, now)
        organizers.append(organizer)
    for start in range(0, len(organizers), 500):
        container.ledger.save(*organizers[start : start + 500])


def pending_work(container: Container) -> int:
    with container.database.transaction() as cursor:
        row = cursor.execute(
            "SELECT (SELECT count(*) FROM rm_quantity_syncs WHERE status IN"
            " ('pending', 'retrying')) + (SELECT count(*) FROM rm_billing_corrections"
            " WHERE status IN ('pending', 'retrying')) AS n"
        ).fetchone()
    return int(row["n"]) if row is not None else 0


def timed_phase(container: Container, gateway: StripeGateway, concurrency: int) -> Phase:
    """React, project, then send corrections and syncs until nothing is pending."""
    phase = Phase(started_at=time.time())
    ledger, database = container.ledger, container.database
    policy = container.renewal_policy()
    reader = LogReader(ledger, container.settings.projection_batch_size)
    started = time.perf_counter()
    catch_up(reader, [RenewalReactor(database, ledger, policy)])
    phase.reactor_s = time.perf_counter() - started
    started = time.perf_counter()
    models = build_read_models(database, minimum_quantity=container.settings.minimum_quantity)
    catch_up(reader, models)
    phase.projections_s = time.perf_counter() - started
    senders = [
        SyncSender(database, ledger, gateway, policy, concurrency=concurrency),
        CorrectionSender(database, ledger, gateway, policy, concurrency=concurrency),
    ]
    stop = threading.Event()
    follower = threading.Thread(
        target=Follower(LogReader(ledger), models, poll_s=0.2).run, args=(stop,), daemon=True
    )
    follower.start()
    started = time.perf_counter()
    try:
        while pending_work(container) and time.perf_counter() - started < SEND_DEADLINE_S:
            if sum(sender.run_once() for sender in senders) == 0:
                time.sleep(0.05)
        phase.sending_s = time.perf_counter() - started
    finally:
        stop.set()
        follower.join(timeout=30)
        for sender in senders:
            sender.close()
    catch_up(reader, models)
    console.print(
        f"  reactor {phase.reactor_s:.1f} s, read models {phase.projections_s:.1f} s,"
        f" sending {phase.sending_s:.1f} s"
    )
    return phase


@dataclass
class Measured:
    phase: Phase
    corrections: list[dict[str, Any]]
    syncs: list[dict[str, Any]]
    statuses: Counter[int | None]
    right: int
    wrong: list[str]

    @staticmethod
    def rate(entries: list[dict[str, Any]]) -> float:
        if len(entries) < 2:
            return 0.0
        return (len(entries) - 1) / (float(entries[-1]["at"]) - float(entries[0]["at"]))

    def all_right_s(self) -> float:
        last = max((float(e["at"]) for e in self.corrections), default=self.phase.started_at)
        return last - self.phase.started_at


def check_drafts(base: str, renewing: Sequence[Renewing]) -> tuple[int, list[str]]:
    drafts = renewal_drafts(base)
    wrong = [
        f"{r.subscription_id}: {drafts[r.subscription_id]['subtotal']} for {r.groups} groups"
        for r in renewing
        if drafts[r.subscription_id]["subtotal"] != UNIT * r.groups
    ]
    return len(renewing) - len(wrong), wrong


def measure_day(args: argparse.Namespace, url: str, base: str) -> Measured:
    """Set up (not timed), run the timed phase, read the double's log, check the drafts."""
    renewal = int(time.time()) + 600
    console.print(f"[bold]setup[/]: {args.subscriptions:,} renewals on one test clock")
    price, clock, renewing = seed_stripe(base, args.subscriptions, renewal)
    container = Container(
        load_settings(LEDGER_DATABASE_URL=url, LEDGER_MINIMUM_QUANTITY=1, STRIPE_PRICE_ID=price)
    )
    gateway = StripeGateway(api_key=API_KEY, api_base=base, max_rps=args.max_rps)
    try:
        with httpx.Client(base_url=base, timeout=600) as admin, _http(base) as http:
            container.migrate()
            http.post(
                f"/v1/test_helpers/test_clocks/{clock}/advance",
                data={"frozen_time": str(renewal + 60)},
            ).raise_for_status()
            seed_ledger(container, renewing, renewal_drafts(base), price=price, renewal=renewal)
            admin.post("/_double/config", json={"rate_limit_rps": args.max_rps}).raise_for_status()
            admin.delete("/_double/requests").raise_for_status()
            console.print("[bold]renewal day[/] (timed)")
            phase = timed_phase(container, gateway, args.concurrency)
            log: list[dict[str, Any]] = admin.get("/_double/requests").json()
            admin.post("/_double/config", json={"rate_limit_rps": None}).raise_for_status()
            right, wrong = check_drafts(base, renewing)
    finally:
        gateway.close()
        container.close()
    posts = [e for e in log if e["method"] == "POST"]
    return Measured(
        phase,
        [e for e in posts if e["path"] == CORRECTION and e["status"] == 200],
        [e for e in posts if e["path"].startswith(SYNC) and e["status"] == 200],
        Counter(e["status"] for e in log),
        right,
        wrong,
    )


def report_day(args: argparse.Namespace, measured: Measured, *, wall_s: float) -> None:
    n, limit = args.subscriptions, args.max_rps
    table = Table(
        title=f"Renewal day — {n:,} drafts at once, half to correct, STRIPE_MAX_RPS={limit},"
        f" sender concurrency {args.concurrency}"
    )
    for column in ("figure", "measured", "target / baseline"):
        table.add_column(column)
    corrections, syncs = measured.corrections, measured.syncs
    c_rate, s_rate = measured.rate(corrections), measured.rate(syncs)
    table.add_row(
        "draft corrections (invoice items) per second",
        f"{c_rate:.1f}/s ({len(corrections):,} made)",
        f"{n // 2:,} to make; limit {limit}/s (pacing {PACING_FACTOR * limit:.0f}/s)",
    )
    table.add_row(
        "quantity syncs per second, same run (the baseline)",
        f"{s_rate:.1f}/s ({len(syncs):,} made)",
        f"{n // 2:,} to make; the same limiter",
    )
    total = measured.rate(sorted(corrections + syncs, key=lambda e: float(e["at"])))
    table.add_row(
        "both together (Stripe writes per second)",
        f"{total:.1f}/s = {total / limit:.2f} x STRIPE_MAX_RPS",
        f"≤ {limit}",
    )
    table.add_row("429s received", str(measured.statuses[429]), "0")
    others = {k: v for k, v in measured.statuses.items() if k not in (200, 429)}
    table.add_row("other non-200 answers", str(others or 0), "0")
    table.add_row(
        "time until every draft is right (timed start → last correction)",
        f"{measured.all_right_s():.1f} s",
        f"{n / 2 / (PACING_FACTOR * limit):.1f} s if corrections alone had the limit",
    )
    phase = measured.phase
    table.add_row(
        "wall time: reactor / read models / sending",
        f"{phase.reactor_s:.1f} s / {phase.projections_s:.1f} s / {phase.sending_s:.1f} s",
        "",
    )
    table.add_row(
        "drafts right afterwards (subtotal = unit x groups)",
        f"{measured.right:,} of {n:,}" + (f" (e.g. {measured.wrong[0]})" if measured.wrong else ""),
        f"{n:,}",
    )
    out = Console(width=160)
    out.print(table)
    out.print(f"total wall time, setup included: {wall_s / 60:.1f} min")
