"""Tables on the terminal that never cut what an operator copies into the next command."""

from __future__ import annotations

from rich.console import Console
from rich.measure import Measurement
from rich.table import Table

# Wide enough for any row we print; rich clamps a measurement to the width it is offered.
_UNBOUNDED = 1_000_000


def print_table(table: Table, console: Console | None = None) -> None:
    """Print ``table`` with its ``no_wrap`` columns whole, however narrow the console.

    rich fits a table to the console (80 columns off a terminal, ``COLUMNS`` if set) by
    shrinking every column, ellipsis included, whatever ``no_wrap`` says, and it measures a
    column's minimum as its longest *word*. An id cut to ``evt_1Qx…`` cannot be pasted into
    the next command, so each ``no_wrap`` column gets its widest cell as its minimum and the
    console is widened to fit: on a narrow terminal lines wrap visually, values stay whole.
    """
    console = console or Console()
    options = console.options.update_width(_UNBOUNDED)
    for column in table.columns:
        if column.no_wrap:
            cells = [*column.cells, *([column.header] if table.show_header else [])]
            widest = max(
                (Measurement.get(console, options, cell).maximum for cell in cells), default=0
            )
            column.min_width = max(column.min_width or 0, widest)
    needed = Measurement.get(console, options, table).minimum
    console.width = max(console.width, needed)
    console.print(table)
