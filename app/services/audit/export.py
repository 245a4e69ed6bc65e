"""Writing a chained audit export and verifying one (the chain is in
:mod:`app.services.audit.chain`).

Writing streams rows from the database straight to the output, so memory stays
constant however long the range; verifying streams the file the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, BinaryIO

from adapters.persistence.database import Database
from app.services.audit.chain import Chain, export_header
from app.services.audit.entries import AuditFilter, stream_rows
from app.services.audit.formats import ChainError, ExportFormat, Trailer, read_preamble

PROGRESS_EVERY = 1000  # rows between progress reports: a bar need not redraw per row

Progress = Callable[[int], None]  # rows written so far


@dataclass(frozen=True)
class ExportSummary:
    rows: int
    final_hash: str


def write_export(
    rows: Iterable[Mapping[str, Any]],
    out: BinaryIO,
    export_format: ExportFormat,
    audit_filter: AuditFilter,
    *,
    progress: Progress | None = None,
) -> ExportSummary:
    """Write the preamble, each row with its chain value, and the trailer."""
    preamble = export_format.preamble(export_header(export_format.name, audit_filter.describe()))
    out.write(preamble)
    chain = Chain(preamble)
    for row in rows:
        values = export_format.row_values(row)
        out.write(export_format.encode_row(values, chain.add(values)))
        if progress is not None and chain.rows % PROGRESS_EVERY == 0:
            progress(chain.rows)
    out.write(export_format.trailer(chain.value, chain.rows))
    if progress is not None:
        progress(chain.rows)
    return ExportSummary(chain.rows, chain.value)


def export_entries(
    database: Database,
    audit_filter: AuditFilter,
    export_format: ExportFormat,
    out: BinaryIO,
    *,
    progress: Progress | None = None,
) -> ExportSummary:
    """Export the entries ``audit_filter`` selects, in log order, from one snapshot."""
    with stream_rows(database, audit_filter) as rows:
        return write_export(rows, out, export_format, audit_filter, progress=progress)


def verify_export(file: BinaryIO) -> ExportSummary:
    """Recompute a file's chain; :class:`ChainError` names the first line that is wrong.

    Edited, inserted, deleted or reordered rows break the chain at the first row
    touched; a truncated file lacks its trailer; an altered trailer disagrees with the
    recomputed chain or row count.
    """
    export_format, preamble, preamble_lines = read_preamble(file)
    chain = Chain(preamble)
    trailer: Trailer | None = None
    last_line = preamble_lines
    for record in export_format.records(file, preamble_lines + 1):
        last_line = record.line
        if trailer is not None:
            raise ChainError(record.line, "content after the final hash line")
        if isinstance(record, Trailer):
            trailer = record
            continue
        if record.chain != chain.add(record.values):
            raise ChainError(
                record.line,
                f"row {chain.rows} does not match the chain"
                " (edited, inserted, deleted or reordered rows)",
            )
    if trailer is None:
        raise ChainError(last_line + 1, "the final hash line is missing (truncated file?)")
    if trailer.rows != chain.rows:
        raise ChainError(
            trailer.line, f"the final line counts {trailer.rows} rows; the file has {chain.rows}"
        )
    if trailer.final_hash != chain.value:
        raise ChainError(trailer.line, "the final hash does not match the chain")
    return ExportSummary(chain.rows, chain.value)
