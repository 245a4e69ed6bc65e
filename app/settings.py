"""All configuration, read once from the environment (12-factor) and validated."""

from __future__ import annotations

from functools import cached_property

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from adapters.persistence.database import DatabaseUrl, DatabaseUrlError, parse_database_url


class ConfigurationError(ValueError):
    """The environment does not describe a runnable service; the message says why."""


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

    @field_validator("database_url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        try:
            parse_database_url(value)
        except DatabaseUrlError as error:
            raise ValueError(str(error)) from None
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


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment; a ``ConfigurationError`` names each bad variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as error:
        problems = []
        for item in error.errors():
            name = ".".join(str(part) for part in item["loc"]) or "settings"
            field_info = Settings.model_fields.get(name)
            if field_info is not None and isinstance(field_info.validation_alias, str):
                name = field_info.validation_alias  # the variable the operator sets
            problems.append(f"{name}: {item['msg'].removeprefix('Value error, ')}")
        raise ConfigurationError("; ".join(problems)) from None
