"""``ledger replay [--projection NAME] [--verify]``: rebuild read models from the log."""

from __future__ import annotations

import argparse
import sys
from functools import partial
from typing import Any

from rich.console import Console
from rich.progress import Progress, TaskID
from rich.table import Table

from app.bootstrap import bootstrap
from app.entrypoints.cli.progress import progress_bar
from app.settings import load_settings
from projections.runner import READ_MODELS, REPLAY_BATCH, VerifyResult, replay


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "replay", help="rebuild read models from position 0 (swap in, or --verify only)"
    )
    parser.add_argument(
        "--projection", choices=sorted(READ_MODELS), help="one read model (default: all)"
    )
    parser.add_argument(
        "--verify",
        action="store_true",
        help="rebuild beside the live tables, compare row counts and checksums, swap nothing",
    )
    parser.add_argument("--batch-size", type=int, default=REPLAY_BATCH, help=argparse.SUPPRESS)
    parser.set_defaults(handler=run_replay)


def run_replay(args: argparse.Namespace) -> int:
    settings = load_settings()
    container = bootstrap(settings)
    names = [args.projection] if args.projection else list(READ_MODELS)
    console = Console(stderr=True)
    differ = False
    try:
        ledger = container.ledger
        total = ledger.recorder.max_notification_id() or 0
        with progress_bar("events", console) as progress:
            task = progress.add_task(", ".join(names), total=total)
            results = replay(
                ledger,
                container.database,
                names,
                minimum_quantity=settings.minimum_quantity,
                verify=args.verify,
                batch_size=args.batch_size,
                progress=partial(_advance, progress, task),
            )
        if not args.verify:
            console.print(
                f"{', '.join(names)}: rebuilt in one pass and swapped in ({total} events)"
            )
        for result in results:
            differ |= not result.identical
            _print_verify(result)
    finally:
        container.close()
    return 1 if differ else 0


def _advance(progress: Progress, task: TaskID, _count: int, position: int) -> None:
    progress.update(task, completed=position)


def _print_verify(result: VerifyResult) -> None:
    table = Table(title=f"{result.name}: {'identical' if result.identical else 'DIFFERENT'}")
    for column in ("table", "live rows", "rebuilt rows", "live sha256", "rebuilt sha256"):
        table.add_column(column)
    for live, rebuilt in zip(result.live, result.rebuilt, strict=True):
        table.add_row(live.table, str(live.rows), str(rebuilt.rows), live.sha256, rebuilt.sha256)
    Console(width=200).print(table)
    sys.stdout.flush()
