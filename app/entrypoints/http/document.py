"""Every documented operation in one list, and the OpenAPI document built from it without
a server: ``python -m app.entrypoints.http.document web/openapi.json`` (``make contract``)
writes the file the SPA's types are generated from (web/src/lib/api.gen.ts)."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import orjson

from app.entrypoints.http import contract
from app.entrypoints.http.openapi import Operation, api_version, openapi_document
from app.entrypoints.http.routes import (
    existing_subscription,
    ops,
    organizer_api,
    organizer_detail,
    renewals,
    staff,
)

MODULES = (contract, ops, organizer_api, existing_subscription, organizer_detail, renewals, staff)


def operations() -> list[Operation]:
    """The operations ``/openapi.json`` documents, in the order it lists them."""
    return [operation for module in MODULES for operation in module.OPERATIONS]


def document() -> dict[str, Any]:
    """The document ``/openapi.json`` serves."""
    return openapi_document(operations(), version=api_version())


def dumps(value: dict[str, Any]) -> bytes:
    """The committed file's form: indented, keys in the document's order, a final newline."""
    return orjson.dumps(value, option=orjson.OPT_INDENT_2) + b"\n"


def main(argv: Sequence[str] = sys.argv[1:]) -> int:
    """Write the document to the one path given, or to stdout."""
    if len(argv) > 1:
        sys.stderr.write("usage: python -m app.entrypoints.http.document [PATH]\n")
        return 2
    if argv:
        Path(argv[0]).write_bytes(dumps(document()))
    else:
        sys.stdout.buffer.write(dumps(document()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
