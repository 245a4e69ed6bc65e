"""``var/dev.env``: the secrets and addresses ``ledger dev up`` generated, one
``export NAME=value`` line each, so that a shell can source it (``. var/dev.env``) and
every ``ledger`` command started beside the stack can read it (app/settings.py).

One format, written and read here only. Values are shell-quoted on the way out and
unquoted on the way in, so anything a shell reads back the same is accepted.
"""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Mapping
from pathlib import Path

DEV_DIR = Path("var")
DEV_ENV = DEV_DIR / "dev.env"
_LINE = re.compile(r"export\s+([A-Z_][A-Z0-9_]*)=(.*)")
_HEADER = (
    "# Written by `ledger dev up`: the dev stack's secrets and addresses.\n"
    "# `. var/dev.env` exports them; `ledger` commands run from this folder read them.\n"
)


class DevEnvError(ValueError):
    """``var/dev.env`` has a line that is not ``export NAME=value``."""


def read_dev_env(path: Path = DEV_ENV) -> dict[str, str]:
    """The variables in ``path``; empty when the file does not exist."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    values: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        match = _LINE.fullmatch(stripped)
        words = shlex.split(match[2]) if match else []
        if match is None or len(words) != 1:
            msg = f"{path}:{number}: expected `export NAME=value`"
            raise DevEnvError(msg)
        values[match[1]] = words[0]
    return values


def write_dev_env(values: Mapping[str, str], path: Path = DEV_ENV) -> None:
    """Replace ``path`` with ``values`` (mode 0600: they are secrets), atomically, so a
    command reading it at the same moment sees the old file or the new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    body = _HEADER + "".join(
        f"export {name}={shlex.quote(value)}\n" for name, value in sorted(values.items())
    )
    temporary = path.with_name(f".{path.name}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as file:
        file.write(body)
    os.chmod(temporary, 0o600)  # an older leftover temporary file kept its own mode
    os.replace(temporary, path)
