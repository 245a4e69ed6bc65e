"""All configuration, read once from the environment (12-factor) and validated.

What the environment is beside a dev stack, and which store folders may be created, is
in app/settings_env.py."""

from __future__ import annotations

import re
from datetime import timedelta
from functools import cached_property
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from adapters.persistence.database import DatabaseUrl, DatabaseUrlError, parse_database_url
from app.settings_env import ConfigurationError, dev_stack_defaults, refuse_missing_sqlite_folder
from domain.renewal import ProrationPolicy

__all__ = ["ConfigurationError", "Settings", "load_settings", "parse_duration"]

_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*(s|m|h|d)")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86_400}


def parse_duration(text: str) -> timedelta | None:
    """``90s``, ``15m``, ``1h``, ``2d`` → a timedelta; None if the text is not one of those
    (pydantic then tries plain seconds and ISO 8601, e.g. ``PT1H``)."""
    match = _DURATION.fullmatch(text.strip().lower())
    if match is None:
        return None
    return timedelta(seconds=float(match[1]) * _UNITS[match[2]])


class Settings(BaseSettings):
    """Every setting the service reads. Names are contracts: keep them."""

    model_config = SettingsConfigDict(extra="ignore", frozen=True, populate_by_name=True)

    database_url: str = Field(
        default="sqlite:///var/ledger.sqlite3", validation_alias="LEDGER_DATABASE_URL"
    )
    minimum_quantity: int = Field(default=1, ge=0, validation_alias="LEDGER_MINIMUM_QUANTITY")
    snapshot_interval: int = Field(
        default=100, ge=2, le=100_000, validation_alias="LEDGER_SNAPSHOT_INTERVAL"
    )
    db_pool_size: int = Field(default=4, ge=1, le=64, validation_alias="LEDGER_DB_POOL_SIZE")
    log_level: str = Field(default="info", validation_alias="LEDGER_LOG_LEVEL")
    log_format: Literal["json", "text"] = Field(
        default="text", validation_alias="LEDGER_LOG_FORMAT"
    )
    worker_metrics_port: int = Field(
        default=9464, ge=0, le=65_535, validation_alias="LEDGER_WORKER_METRICS_PORT"
    )
    # All interfaces: Prometheus and the kubelet reach the worker's pod IP.
    worker_metrics_host: str = Field(
        default="0.0.0.0",  # noqa: S104
        validation_alias="LEDGER_WORKER_METRICS_HOST",
    )
    worker_liveness_s: float = Field(
        default=180, ge=5, le=3600, validation_alias="LEDGER_WORKER_LIVENESS_S"
    )
    service_token: SecretStr | None = Field(default=None, validation_alias="LEDGER_SERVICE_TOKEN")
    stripe_webhook_secret: SecretStr | None = Field(
        default=None, validation_alias="STRIPE_WEBHOOK_SECRET"
    )
    stripe_webhook_tolerance_s: int = Field(
        default=300, ge=0, le=86_400, validation_alias="STRIPE_WEBHOOK_TOLERANCE_S"
    )
    projection_batch_size: int = Field(
        default=1000, ge=1, le=100_000, validation_alias="LEDGER_PROJECTION_BATCH_SIZE"
    )
    worker_poll_s: float = Field(default=0.5, gt=0, le=60, validation_alias="LEDGER_WORKER_POLL_S")
    # -- Stripe and the renewal process manager -------------------------------------
    stripe_api_key: SecretStr | None = Field(default=None, validation_alias="STRIPE_API_KEY")
    stripe_api_base: str | None = Field(default=None, validation_alias="STRIPE_API_BASE")
    stripe_price_id: str | None = Field(default=None, validation_alias="STRIPE_PRICE_ID")
    stripe_max_rps: float = Field(default=25, gt=0, le=10_000, validation_alias="STRIPE_MAX_RPS")
    stripe_max_concurrency: int = Field(
        default=8, ge=1, le=64, validation_alias="STRIPE_MAX_CONCURRENCY"
    )
    stripe_timeout_s: float = Field(default=20, gt=0, le=120, validation_alias="STRIPE_TIMEOUT_S")
    sync_lead: timedelta = Field(default=timedelta(hours=1), validation_alias="LEDGER_SYNC_LEAD")
    proration_behavior: ProrationPolicy = Field(
        default=ProrationPolicy.NONE, validation_alias="LEDGER_PRORATION_BEHAVIOR"
    )
    sync_retry_horizon: timedelta = Field(
        default=timedelta(hours=24), validation_alias="LEDGER_SYNC_RETRY_HORIZON"
    )
    sync_retry_base: timedelta = Field(
        default=timedelta(seconds=2), validation_alias="LEDGER_SYNC_RETRY_BASE"
    )
    # -- the organizer API and the SPA ---------------------------------------------
    token_secret: SecretStr | None = Field(default=None, validation_alias="LEDGER_TOKEN_SECRET")
    token_max_ttl: timedelta = Field(
        default=timedelta(hours=24), validation_alias="LEDGER_TOKEN_MAX_TTL"
    )
    cors_origins: str = Field(default="", validation_alias="LEDGER_CORS_ORIGINS")
    sign_in_url: str = Field(default="/", validation_alias="LEDGER_SIGN_IN_URL")
    public_url: str = Field(default="http://127.0.0.1:8000", validation_alias="LEDGER_PUBLIC_URL")
    redirect_origins: str = Field(default="", validation_alias="LEDGER_REDIRECT_ORIGINS")
    stripe_automatic_tax: bool = Field(default=False, validation_alias="STRIPE_AUTOMATIC_TAX")
    stripe_portal_configuration: str | None = Field(
        default=None, validation_alias="STRIPE_PORTAL_CONFIGURATION"
    )
    reconcile_every: timedelta | None = Field(
        default=timedelta(hours=6), validation_alias="LEDGER_RECONCILE_EVERY"
    )
    # How long without a stored delivery before a starting worker backfills (off: never).
    backfill_after: timedelta | None = Field(
        default=timedelta(hours=1), validation_alias="LEDGER_BACKFILL_AFTER"
    )
    # -- ``ledger smoke`` (docs/smoke.md) ---------------------------------------------
    smoke_pushgateway_url: str | None = Field(
        default=None, validation_alias="LEDGER_SMOKE_PUSHGATEWAY_URL"
    )
    # Browser mode's Chromium (e.g. Debian's /usr/bin/chromium); unset: Playwright's own.
    smoke_chromium: str | None = Field(default=None, validation_alias="LEDGER_SMOKE_CHROMIUM")

    @field_validator(
        "sync_lead",
        "sync_retry_horizon",
        "sync_retry_base",
        "reconcile_every",
        "backfill_after",
        "token_max_ttl",
        mode="before",
    )
    @classmethod
    def _durations(cls, value: object) -> object:
        if isinstance(value, str):
            text = value.strip().lower()
            if text in ("", "off", "none"):
                return None
            return parse_duration(text) or value
        return value

    @field_validator("token_max_ttl")
    @classmethod
    def _check_token_ttl(cls, value: timedelta) -> timedelta:
        if value <= timedelta(0):
            msg = "must be a positive duration (e.g. 24h)"
            raise ValueError(msg)
        return value

    @field_validator("database_url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        try:
            parse_database_url(value)
        except DatabaseUrlError as error:
            raise ValueError(str(error)) from None
        return value

    @field_validator(
        "smoke_pushgateway_url", "smoke_chromium", "stripe_portal_configuration", mode="before"
    )
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("smoke_pushgateway_url")
    @classmethod
    def _check_pushgateway(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            msg = "must be an http:// or https:// URL (e.g. http://pushgateway:9091)"
            raise ValueError(msg)
        return value

    @field_validator("log_level")
    @classmethod
    def _check_level(cls, value: str) -> str:
        level = value.lower()
        if level not in {"debug", "info", "warning", "error"}:
            msg = "must be one of debug, info, warning, error"
            raise ValueError(msg)
        return level

    @cached_property
    def database(self) -> DatabaseUrl:
        return parse_database_url(self.database_url)

    @cached_property
    def webhook_secrets(self) -> tuple[str, ...]:
        """``STRIPE_WEBHOOK_SECRET`` may list several secrets (comma-separated) for rotation."""
        if self.stripe_webhook_secret is None:
            return ()
        raw = self.stripe_webhook_secret.get_secret_value()
        return tuple(part.strip() for part in raw.split(",") if part.strip())

    @field_validator("stripe_webhook_secret")
    @classmethod
    def _check_secrets(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        parts = [p.strip() for p in value.get_secret_value().split(",") if p.strip()]
        if not parts or not all(p.startswith("whsec_") for p in parts):
            msg = "must be one or more comma-separated whsec_... secrets"
            raise ValueError(msg)
        return value

    @field_validator("service_token", "token_secret", "stripe_api_key", mode="before")
    @classmethod
    def _check_secret_text(cls, value: object) -> object:
        """A secret of spaces is as unusable as an empty one (and signs tokens anyone can
        forge); one with a stray newline from a secrets file never matches. Refuse both."""
        text = value.get_secret_value() if isinstance(value, SecretStr) else value
        if not isinstance(text, str):
            return value
        if text and not text.strip():
            msg = "must not be blank (it is only whitespace)"
            raise ValueError(msg)
        if text and text != text.strip():
            msg = "must not start or end with whitespace"
            raise ValueError(msg)
        return value

    @field_validator("token_secret")
    @classmethod
    def _check_token_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < 32:
            msg = "must be at least 32 characters (HS256 key)"
            raise ValueError(msg)
        return value

    @cached_property
    def allowed_origins(self) -> tuple[str, ...]:
        """``LEDGER_CORS_ORIGINS``: comma-separated origins allowed to call the API."""
        return tuple(o.strip().rstrip("/") for o in self.cors_origins.split(",") if o.strip())

    @cached_property
    def checkout_return_origins(self) -> tuple[str, ...]:
        """Where Checkout may send the organizer back: our public origin, plus
        ``LEDGER_REDIRECT_ORIGINS`` (comma-separated; e.g. the platform's own app)."""
        extra = (o.strip() for o in self.redirect_origins.split(",") if o.strip())
        return (self.public_url, *extra)

    @field_validator("service_token")
    @classmethod
    def _check_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < 16:
            msg = "must be at least 16 characters"
            raise ValueError(msg)
        return value


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment (and ``var/dev.env`` beside a dev stack); a
    ``ConfigurationError`` names each bad variable. A store URL passed in ``overrides`` is
    the caller's own; one from the environment is outside input, checked by
    :func:`refuse_missing_sqlite_folder`."""
    overrides = {**dev_stack_defaults(overrides), **overrides}
    try:
        settings = Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as error:
        problems = []
        for item in error.errors():
            name = ".".join(str(part) for part in item["loc"]) or "settings"
            field_info = Settings.model_fields.get(name)
            if field_info is not None and isinstance(field_info.validation_alias, str):
                name = field_info.validation_alias  # the variable the operator sets
            problems.append(f"{name}: {item['msg'].removeprefix('Value error, ')}")
        raise ConfigurationError("; ".join(problems)) from None
    if "database_url" not in overrides:
        refuse_missing_sqlite_folder(settings.database)
    return settings
