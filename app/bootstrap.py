"""Wiring: the one place that turns settings into live objects. Nothing at import time."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from adapters.persistence.database import (
    PostgresDatabase,
    SQLiteDatabase,
    StoreUnavailableError,
    open_database,
)
from adapters.persistence.migrations import (
    MigrationError,
    migrate,
    migration_status,
    missing_tables,
    shipped_tables,
)
from adapters.stripe.gateway import StripeGateway
from app.services.errors import NotReadyError
from app.services.ledger import Clock, LedgerApplication, eventsourcing_env, utc_now
from app.services.process.policy import RenewalPolicy
from app.settings import Settings
from projections.runner import ensure_tables, read_model_tables

log = logging.getLogger("ledger")
NOT_MIGRATED_HINT = "the database is not migrated: run `ledger migrate`"


@dataclass(frozen=True)
class Readiness:
    ready: bool
    reason: str


class Container:
    """Holds the process's long-lived objects; build with :func:`bootstrap`."""

    def __init__(self, settings: Settings, *, clock: Clock = utc_now) -> None:
        self.settings = settings
        self.clock = clock
        self.database: SQLiteDatabase | PostgresDatabase = open_database(
            settings.database, pool_size=settings.db_pool_size
        )
        self._ledger: LedgerApplication | None = None
        self._gateway: StripeGateway | None = None
        self._tables: list[str] | None = None
        self._lock = threading.Lock()

    @property
    def ledger(self) -> LedgerApplication:
        """The event-sourced application, built once the store is migrated."""
        with self._lock:
            if self._ledger is None:
                readiness = self.readiness()
                if not readiness.ready:
                    raise NotReadyError(readiness.reason)
                self._ledger = LedgerApplication(
                    eventsourcing_env(
                        self.settings.database,
                        snapshot_interval=self.settings.snapshot_interval,
                        extra_connections=4 + self.settings.stripe_max_concurrency,
                    ),
                    clock=self.clock,
                    minimum_quantity=self.settings.minimum_quantity,
                )
            return self._ledger

    def readiness(self) -> Readiness:
        """Ready when the store answers and every shipped migration is applied."""
        try:
            self.database.ping()
            status = migration_status(self.database)
            missing = missing_tables(self.database, self._required_tables())
        except StoreUnavailableError as error:
            return Readiness(False, f"store unreachable: {error}")
        except MigrationError as error:
            return Readiness(False, str(error))
        if not status.current:
            return Readiness(False, NOT_MIGRATED_HINT)
        if missing:
            return Readiness(False, f"tables missing: {', '.join(missing)}: run `ledger migrate`")
        return Readiness(True, "ok")

    def _required_tables(self) -> list[str]:
        if self._tables is None:
            backend = self.settings.database.backend
            self._tables = shipped_tables(backend) + read_model_tables()
        return self._tables

    def migrate(self) -> list[str]:
        """Apply pending SQL migrations, then create any missing read-model tables."""
        applied = [f"{m.version:04d}_{m.name}" for m in migrate(self.database)]
        ensure_tables(self.database)
        return applied

    @property
    def gateway(self) -> StripeGateway | None:
        """The process's shared gateway (for the HTTP API); None without STRIPE_API_KEY."""
        with self._lock:
            if self._gateway is None:
                self._gateway = self.stripe_gateway()
            return self._gateway

    def stripe_gateway(self) -> StripeGateway | None:
        """A gateway when ``STRIPE_API_KEY`` is set (Stripe or the test double), else None."""
        return gateway_from_settings(self.settings)

    @property
    def group_price_ids(self) -> frozenset[str]:
        """The per-group price (``STRIPE_PRICE_ID``): the subscription item and invoice line
        billed per group are the ones with this price, wherever Stripe objects are read
        (intake, process manager, reconciliation). Empty: docs/stripe-translation.md's
        fallback (the earliest created item)."""
        price = self.settings.stripe_price_id
        return frozenset({price}) if price else frozenset()

    def renewal_policy(self) -> RenewalPolicy:
        settings = self.settings
        return RenewalPolicy(
            minimum_quantity=settings.minimum_quantity,
            proration=settings.proration_behavior,
            lead=settings.sync_lead,
            retry_base=settings.sync_retry_base,
            retry_horizon=settings.sync_retry_horizon,
            group_price_ids=self.group_price_ids,
            automatic_tax=settings.stripe_automatic_tax,
        )

    def close(self) -> None:
        with self._lock:
            if self._gateway is not None:
                self._gateway.close()
                self._gateway = None
            if self._ledger is not None:
                self._ledger.close()
                self._ledger = None
        self.database.close()


def gateway_from_settings(settings: Settings) -> StripeGateway | None:
    """A gateway when ``STRIPE_API_KEY`` is set, for commands that need no store."""
    if settings.stripe_api_key is None:
        return None
    return StripeGateway(
        api_key=settings.stripe_api_key.get_secret_value(),
        api_base=settings.stripe_api_base,
        max_rps=settings.stripe_max_rps,
        timeout_s=settings.stripe_timeout_s,
    )


def bootstrap(
    settings: Settings, *, clock: Clock = utc_now, embedded_migrate: bool = True
) -> Container:
    """Build the container. The embedded default (SQLite) migrates itself; PostgreSQL
    never does implicitly — production schema changes are an explicit step."""
    container = Container(settings, clock=clock)
    if embedded_migrate and settings.database.backend == "sqlite":
        applied = container.migrate()
        if applied:
            log.info("migrated the embedded database: %s", ", ".join(applied))
    return container
