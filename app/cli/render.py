"""Tables on the terminal that never cut what an operator copies into the next command."""

from __future__ import annotations

from rich.console import Console
from rich.measure import Measurement
from rich.table import Table

# Wide enough for any row we print; rich clamps a measurement to the width it is offered.
_UNBOUNDED = 1_000_000


def print_table(table: Table, console: Console | None = None) -> None:
    """Print ``table`` at least as wide as its ``no_wrap`` columns need.

    rich fits a table to the console (80 columns off a terminal, ``COLUMNS`` if set) by
    shrinking every column, ellipsis included, whatever ``no_wrap`` says. An id cut to
    ``evt_1Qx…`` cannot be pasted into the next command, so the console is widened instead:
    on a narrow terminal the lines wrap visually, but each one holds whole values.
    """
    console = console or Console()
    needed = Measurement.get(console, console.options.update_width(_UNBOUNDED), table).minimum
    console.width = max(console.width, needed)
    console.print(table)
