"""Where settings come from besides the process environment, and what they may create.

``load_settings`` (app/settings.py) merges ``var/dev.env`` under the environment
(``dev_stack_defaults``) and refuses a SQLite store in a folder that does not exist
outside ``./var`` (``refuse_missing_sqlite_folder``).
"""

from __future__ import annotations

import os
from pathlib import Path

from adapters.persistence.database import DatabaseUrl
from app.dev_env import DEV_ENV, DevEnvError, read_dev_env


class ConfigurationError(ValueError):
    """The environment does not describe a runnable service; the message says why."""


def dev_stack_defaults(overrides: dict[str, object]) -> dict[str, str]:
    """What ``ledger dev up`` wrote to ``./var/dev.env``, for the names the environment
    leaves unset: so a command started beside ``make run`` finds the dev stack, while an
    explicit variable still wins. Only on the stack's own store (the embedded default,
    or the URL the file records); never when the caller passes its own store."""
    if "database_url" in overrides:
        return {}
    try:
        recorded = read_dev_env(DEV_ENV)
    except DevEnvError as error:
        raise ConfigurationError(str(error)) from None
    url = os.environ.get("LEDGER_DATABASE_URL")
    if url is not None and url != recorded.get("LEDGER_DATABASE_URL"):
        return {}
    return {name: value for name, value in recorded.items() if name not in os.environ}


EMBEDDED_FOLDER = Path("var")  # where the embedded default lives; created on demand


def refuse_missing_sqlite_folder(url: DatabaseUrl, cwd: Path | None = None) -> None:
    """A SQLite store whose folder does not exist is created only under ``./var``.

    Anywhere else a missing folder is far more likely a typo (``sqlite:///no/such/dir``)
    than a wish: creating it would leave a fresh empty ledger somewhere nobody looks, and
    the command would "work" on it. ``..`` is resolved, so ``var/../x`` is not under var.
    """
    if url.sqlite_path is None:
        return
    base = Path.cwd() if cwd is None else cwd
    folder = (base / url.sqlite_path).resolve().parent
    if folder.exists() or folder.is_relative_to((base / EMBEDDED_FOLDER).resolve()):
        return
    msg = (
        f"LEDGER_DATABASE_URL: the folder {folder} does not exist (only ./var is created"
        " on demand): create it, or fix the path"
    )
    raise ConfigurationError(msg)
