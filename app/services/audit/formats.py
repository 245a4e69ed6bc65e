"""How an audit export is laid out in each format, for writing and for reading back.

Both formats are a *preamble* (the header object naming format, columns and filter),
one line per row ending in its ``chain`` value, and a trailer with the final hash and
the row count. Reading is strict: whatever this module did not write is reported as a
:class:`ChainError` naming the line.
"""

from __future__ import annotations

import csv
import io
import re
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, BinaryIO, ClassVar

import orjson

from app.services.audit.chain import EXPORT_VERSION, export_header
from app.services.audit.entries import COLUMNS, entry_of

_HASH = re.compile(r"^[0-9a-f]{64}$")
_CSV_TRAILER = re.compile(r"^# final_hash=([0-9a-f]{64}),rows=(0|[1-9][0-9]*)$")
_ROW_KEYS = frozenset([*COLUMNS, "chain"])


class ChainError(ValueError):
    """The first line at which a file stops being an untouched audit export."""

    def __init__(self, line: int, reason: str) -> None:
        super().__init__(f"line {line}: {reason}")
        self.line = line
        self.reason = reason


@dataclass(frozen=True)
class Row:
    line: int
    values: list[Any]
    chain: str


@dataclass(frozen=True)
class Trailer:
    line: int
    final_hash: str
    rows: int


class ExportFormat(ABC):
    name: ClassVar[str]
    # What precedes the header object on the first line.
    comment: ClassVar[bytes]

    @abstractmethod
    def preamble(self, header: bytes) -> bytes:
        """Everything before the first row; its SHA-256 is the chain's genesis."""

    @abstractmethod
    def row_values(self, row: Mapping[str, Any]) -> list[Any]:
        """A stored row's values in column order, as this format writes them."""

    @abstractmethod
    def encode_row(self, values: list[Any], chain: str) -> bytes: ...

    @abstractmethod
    def trailer(self, final_hash: str, rows: int) -> bytes: ...

    @abstractmethod
    def records(self, lines: Iterable[bytes], first_line: int) -> Iterator[Row | Trailer]:
        """Rows and trailers of the lines after the preamble (line numbers from 1)."""


class JsonLines(ExportFormat):
    """One JSON object a line: the header, the entries (as the API shows them), the trailer."""

    name = "jsonl"
    comment = b""

    def preamble(self, header: bytes) -> bytes:
        return header + b"\n"

    def row_values(self, row: Mapping[str, Any]) -> list[Any]:
        entry = entry_of(row)
        return [entry[name] for name in COLUMNS]

    def encode_row(self, values: list[Any], chain: str) -> bytes:
        return orjson.dumps({**dict(zip(COLUMNS, values, strict=True)), "chain": chain}) + b"\n"

    def trailer(self, final_hash: str, rows: int) -> bytes:
        return orjson.dumps({"final_hash": final_hash, "rows": rows}) + b"\n"

    def records(self, lines: Iterable[bytes], first_line: int) -> Iterator[Row | Trailer]:
        for number, raw in enumerate(lines, first_line):
            try:
                item = orjson.loads(raw)
            except orjson.JSONDecodeError:
                raise ChainError(number, "not a JSON object") from None
            if not isinstance(item, dict):
                raise ChainError(number, "not a JSON object")
            if "final_hash" in item:
                yield _trailer(number, item)
            elif set(item) != _ROW_KEYS or not isinstance(item["chain"], str):
                raise ChainError(number, "not an audit row (its fields differ from the header)")
            else:
                yield Row(number, [item[name] for name in COLUMNS], item["chain"])


def _trailer(number: int, item: dict[str, Any]) -> Trailer:
    final_hash, rows = item.get("final_hash"), item.get("rows")
    if (
        set(item) != {"final_hash", "rows"}
        or not isinstance(final_hash, str)
        or not _HASH.match(final_hash)
        or not isinstance(rows, int)
        or isinstance(rows, bool)
        or rows < 0
    ):
        raise ChainError(number, "malformed final hash line")
    return Trailer(number, final_hash, rows)


class Csv(ExportFormat):
    """RFC 4180 CSV (CRLF line ends): a ``#`` header comment, the column names, the rows
    (an empty field is null; ``details`` is JSON text), and a ``# final_hash=…`` trailer."""

    name = "csv"
    comment = b"# "

    def preamble(self, header: bytes) -> bytes:
        return self.comment + header + b"\r\n" + _csv_line([*COLUMNS, "chain"])

    def row_values(self, row: Mapping[str, Any]) -> list[Any]:
        return ["" if row[name] is None else str(row[name]) for name in COLUMNS]

    def encode_row(self, values: list[Any], chain: str) -> bytes:
        return _csv_line([*values, chain])

    def trailer(self, final_hash: str, rows: int) -> bytes:
        return f"# final_hash={final_hash},rows={rows}\r\n".encode()

    def records(self, lines: Iterable[bytes], first_line: int) -> Iterator[Row | Trailer]:
        reader = csv.reader(_text(lines, first_line))
        start = first_line
        while True:
            try:
                record = next(reader)
            except StopIteration:
                return
            except csv.Error as error:
                raise ChainError(start, f"not CSV ({error})") from None
            line, start = start, first_line + reader.line_num
            if record and record[0].startswith("#"):
                match = _CSV_TRAILER.match(",".join(record))
                if match is None:
                    raise ChainError(line, "malformed final hash line")
                yield Trailer(line, match[1], int(match[2]))
            elif len(record) != len(COLUMNS) + 1:
                raise ChainError(line, f"{len(record)} fields where a row has {len(COLUMNS) + 1}")
            else:
                yield Row(line, record[:-1], record[-1])


def _csv_line(fields: list[str]) -> bytes:
    text = io.StringIO()
    # The default (excel) dialect ends lines with CRLF, which also makes it quote fields
    # holding a bare CR; with "\n" alone such a field would split on reading.
    csv.writer(text).writerow(fields)
    return text.getvalue().encode()


def _text(lines: Iterable[bytes], first_line: int) -> Iterator[str]:
    for number, raw in enumerate(lines, first_line):
        try:
            yield raw.decode("utf-8")
        except UnicodeDecodeError:
            raise ChainError(number, "not UTF-8 text") from None


FORMATS: dict[str, ExportFormat] = {f.name: f for f in (JsonLines(), Csv())}


def read_preamble(file: BinaryIO) -> tuple[ExportFormat, bytes, int]:
    """Detect the format from the first line and check the whole preamble is one this
    code writes; returns the format, the preamble's bytes and how many lines it took."""
    first = file.readline()
    found = [f for f in FORMATS.values() if first.startswith(f.comment + b"{")]
    if not found:
        raise ChainError(1, "not an audit export (no export header)")
    export_format = found[0]
    try:
        header = orjson.loads(first[len(export_format.comment) :])
    except orjson.JSONDecodeError:
        raise ChainError(1, "not an audit export (the header is not JSON)") from None
    if (
        not isinstance(header, dict)
        or header.get("audit_export") != EXPORT_VERSION
        or header.get("format") != export_format.name
    ):
        raise ChainError(1, f"not a {EXPORT_VERSION} {export_format.name} export header")
    expected = export_format.preamble(export_header(export_format.name, header.get("filter")))
    lines = [first]
    for number, want in enumerate(expected.splitlines(keepends=True), 1):
        if number > 1:
            lines.append(file.readline())
        if lines[-1] != want:
            raise ChainError(number, "the export header was altered")
    return export_format, b"".join(lines), len(lines)
