"""``ledger audit export`` and ``ledger audit verify``: the audit trail as a provable file.

``export`` streams the selected entries (constant memory) with a running SHA-256 chain
and ends with the final hash (docs/audit-export.md). ``verify`` recomputes a file's
chain (``-`` reads standard input). Exit codes: 0 ok · 1 the file fails verification, or
the store is not ready · 2 a bad argument or an unreadable/unwritable file · 78 bad configuration.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO

from app.bootstrap import bootstrap
from app.entrypoints.cli.core import instant_argument
from app.entrypoints.cli.progress import progress_bar
from app.services.audit.entries import AuditFilter, InvalidFilterError, count_entries
from app.services.audit.export import ExportSummary, export_entries, verify_export
from app.services.audit.formats import FORMATS, ChainError
from app.services.errors import NotReadyError
from app.settings import load_settings

EXIT_INVALID = 1
EXIT_USAGE = 2
STDIN_NAME = "standard input"


def register(commands: Any) -> None:
    audit = commands.add_parser("audit", help="export and verify the audit trail")
    audit_commands = audit.add_subparsers(dest="audit_command", required=True)

    export = audit_commands.add_parser(
        "export", help="entries recorded in [--from, --to), hash-chained, to a file or stdout"
    )
    export.add_argument(
        "--from", dest="start", type=instant_argument, required=True, metavar="ISO8601"
    )
    export.add_argument("--to", dest="end", type=instant_argument, required=True, metavar="ISO8601")
    export.add_argument("--organizer", metavar="ORGANIZER_ID", help="one organizer's entries")
    export.add_argument("--format", choices=sorted(FORMATS), required=True)
    export.add_argument("--output", type=Path, metavar="FILE", help="default: stdout")
    export.set_defaults(handler=run_export)

    verify = audit_commands.add_parser("verify", help="check an export's hash chain")
    verify.add_argument("file", metavar="FILE", help="an export, or - for standard input")
    verify.set_defaults(handler=run_verify)


def run_export(args: argparse.Namespace) -> int:
    try:
        audit_filter = AuditFilter(args.organizer, args.start, args.end)
    except InvalidFilterError as error:
        print(
            f"ledger audit export: error: argument --{error.parameter}: {error.reason}",
            file=sys.stderr,
        )
        return EXIT_USAGE
    settings = load_settings()
    container = bootstrap(settings)
    try:
        readiness = container.readiness()
        if not readiness.ready:
            raise NotReadyError(readiness.reason)
        total = count_entries(container.database, audit_filter)
        with progress_bar("rows") as bar, _output(args.output) as out:
            task = bar.add_task("audit export", total=total)
            summary = export_entries(
                container.database,
                audit_filter,
                FORMATS[args.format],
                out,
                progress=lambda rows: bar.update(task, completed=rows),
            )
    except BrokenPipeError:
        # The reader went away (``| head``): stop quietly, and keep Python from
        # complaining again when it flushes stdout at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return _fail(EXIT_INVALID, "stdout was closed before the export was complete")
    except OSError as error:
        return _fail(EXIT_USAGE, f"cannot write {args.output or 'stdout'}: {error.strerror}")
    finally:
        container.close()
    # On stderr, so it can be kept apart from the file: the hash proves the file later.
    print(f"exported {summary.rows} rows, final hash {summary.final_hash}", file=sys.stderr)
    return 0


@contextmanager
def _output(path: Path | None) -> Iterator[BinaryIO]:
    """stdout, or ``path`` written beside itself and renamed when complete, so a failed
    export never leaves a plausible-looking partial file under the asked-for name."""
    if path is None:
        yield sys.stdout.buffer
        sys.stdout.buffer.flush()
        return
    partial = path.with_name(f".{path.name}.partial")
    try:
        with partial.open("wb") as file:
            yield file
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


def run_verify(args: argparse.Namespace) -> int:
    name = STDIN_NAME if args.file == "-" else args.file
    try:
        with _input(args.file) as file:
            summary: ExportSummary = verify_export(file)
    except ChainError as error:
        return _fail(EXIT_INVALID, f"{name}: FAILED at {error}")
    except OSError as error:
        return _fail(EXIT_USAGE, f"cannot read {name}: {error.strerror}")
    print(f"OK: {summary.rows} rows, final hash {summary.final_hash}")
    return 0


@contextmanager
def _input(file: str) -> Iterator[BinaryIO]:
    """``-`` is standard input (the POSIX convention), so an export can be piped in."""
    if file == "-":
        yield sys.stdin.buffer
        return
    with Path(file).open("rb") as opened:
        yield opened


def _fail(code: int, message: str) -> int:
    print(f"ledger: {message}", file=sys.stderr)
    return code
