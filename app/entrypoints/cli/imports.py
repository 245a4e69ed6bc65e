"""``ledger import-group-changes FILE.jsonl``: backfill platform group changes.

The command parses, calls the import (:mod:`app.services.intake.imports`: same rules as
``POST /internal/group-changes``, resumable from the checkpoint it records) and prints.

Exit codes: 0 every line was applied, duplicate or stale · 1 the file was processed
but some line was rejected (or the store failed: re-run to resume) · 2 the file
cannot be read or an argument is bad.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import IO, Any

from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

from adapters.persistence.database import Database
from app.bootstrap import bootstrap
from app.services.intake.group_changes import RETRY_LATER_ERRORS, ChangeLedger, Outcome
from app.services.intake.imports import ImportRun, start_import
from app.settings import load_settings

EXIT_REJECTED = 1
EXIT_STORE = 1
EXIT_USAGE = 2


def batch_size_argument(text: str) -> int:
    try:
        size = int(text)
    except ValueError:
        size = 0
    if not 1 <= size <= 10_000:
        msg = f"{text!r} is not a batch size (1-10000 lines)"
        raise argparse.ArgumentTypeError(msg)
    return size


def register(commands: Any) -> None:
    command = commands.add_parser(
        "import-group-changes",
        help="apply a JSON-lines file of platform group changes (resumable)",
    )
    command.add_argument("file", metavar="FILE.jsonl", type=Path)
    command.add_argument(
        "--restart", action="store_true", help="ignore recorded progress; start at line 1"
    )
    command.add_argument("--batch-size", type=batch_size_argument, default=500, metavar="LINES")
    command.set_defaults(handler=run_import)


def run_import(args: argparse.Namespace) -> int:
    """Import ``args.file``; see the module docstring for exit codes."""
    path: Path = args.file
    try:
        handle = path.open("rb")
    except OSError as error:
        print(f"ledger: cannot read {path}: {error.strerror or error}", file=sys.stderr)
        return EXIT_USAGE
    with handle:
        container = bootstrap(load_settings())
        try:
            return _import(handle, path, args, container.ledger, container.database)
        except RETRY_LATER_ERRORS as error:
            print(f"ledger: store failed: {error}; re-run to resume", file=sys.stderr)
            return EXIT_STORE
        finally:
            container.close()


def _import(
    handle: IO[bytes],
    path: Path,
    args: argparse.Namespace,
    ledger: ChangeLedger,
    database: Database,
) -> int:
    run, start, note = start_import(database, ledger, handle, path, restart=args.restart)
    if note is not None:
        print(f"ledger: {note}", file=sys.stderr)
    size = os.fstat(handle.fileno()).st_size
    with _progress_bar() as progress:
        task = progress.add_task(path.name, total=size, completed=start.byte_offset)
        for offset in run.batches(handle, start, args.batch_size):
            progress.update(task, completed=offset)
    _print_summary(path, run, resumed_after=start.line_number)
    return EXIT_REJECTED if run.checkpoint.counts[Outcome.REJECTED.value] else 0


def _progress_bar() -> Progress:
    """A progress bar by bytes on stderr, hidden when stderr is not a terminal."""
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        disable=not sys.stderr.isatty(),
    )


def _print_summary(path: Path, run: ImportRun, *, resumed_after: int) -> None:
    counts = run.checkpoint.counts
    total = run.checkpoint.line_number
    resumed = (
        f", {total - resumed_after} in this run (resumed after line {resumed_after})"
        if resumed_after
        else ""
    )
    print(f"imported {path}: {total} lines{resumed}")
    for outcome in Outcome:
        print(f"  {outcome.value:<9} {counts[outcome.value]:>9}")
    if run.rejected_this_run:
        shown = len(run.rejected_samples)
        print(f"rejected lines (first {shown} of {run.rejected_this_run} in this run):")
        for result in run.rejected_samples:
            print(f"  line {result.index}: {result.reason}")
    elif counts[Outcome.REJECTED.value]:
        print("rejected lines were reported by the earlier run(s); --restart lists them again")
