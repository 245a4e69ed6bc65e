"""The audit export's hash chain: any single-row edit, deletion or swap is detected."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from typing import Any

import orjson
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from app.services.audit.chain import canonical
from app.services.audit.entries import COLUMNS, INTEGER_COLUMNS, AuditFilter
from app.services.audit.export import verify_export, write_export
from app.services.audit.formats import FORMATS, ChainError, ExportFormat, Row, read_preamble

# Any text a database could hold (Hypothesis leaves out lone surrogates), and the
# characters that make CSV quote: separators, quotes, CR and LF.
text = st.text(max_size=12) | st.sampled_from(
    ["", ",", '"', "\r", "\n", "\r\n", "#", "# final_hash=", " x "]
)
integer = st.integers(-(2**63), 2**63 - 1)
details = st.none() | st.dictionaries(
    st.text(max_size=6), st.none() | integer | text | st.booleans(), max_size=4
).map(lambda d: orjson.dumps(d, option=orjson.OPT_SORT_KEYS).decode())


@st.composite
def stored_rows(draw: st.DrawFn) -> dict[str, Any]:
    row: dict[str, Any] = {}
    for name in COLUMNS:
        if name == "details":
            row[name] = draw(details)
        elif name in INTEGER_COLUMNS:
            row[name] = draw(st.none() | integer)
        else:
            row[name] = draw(st.none() | text)
    return row


ReadRows = list[tuple[list[Any], str]]


@dataclass(frozen=True)
class Exported:
    format_name: str
    data: bytes
    rows: ReadRows  # (values, chain) of each row, as verification reads them back


def exports(min_rows: int = 0) -> st.SearchStrategy[Exported]:
    """A generated export of a few rows in either format, and its rows read back."""

    def build(case: tuple[str, list[dict[str, Any]]]) -> Exported:
        data = export(*case)
        return Exported(case[0], data, parts(data)[2])

    return st.tuples(
        st.sampled_from(sorted(FORMATS)), st.lists(stored_rows(), min_size=min_rows, max_size=6)
    ).map(build)


def export(format_name: str, rows: list[dict[str, Any]]) -> bytes:
    out = io.BytesIO()
    write_export(rows, out, FORMATS[format_name], AuditFilter(organizer_id="org-1"))
    return out.getvalue()


def parts(data: bytes) -> tuple[ExportFormat, bytes, ReadRows, bytes]:
    """Preamble, each row's (values, chain) as read back, and the trailer's bytes."""
    file = io.BytesIO(data)
    export_format, preamble, lines = read_preamble(file)
    records = list(export_format.records(io.BytesIO(data[len(preamble) :]), lines + 1))
    rows = [(r.values, r.chain) for r in records if isinstance(r, Row)]
    trailer = data[data.rindex(b"#" if export_format.name == "csv" else b'{"final_hash"') :]
    return export_format, preamble, rows, trailer


def reassemble(data: bytes, rows: ReadRows) -> bytes:
    """The file with its rows replaced, each written with the chain value it carries."""
    export_format, preamble, _, trailer = parts(data)
    body = b"".join(export_format.encode_row(values, chain) for values, chain in rows)
    return preamble + body + trailer


def rejects(data: bytes) -> ChainError:
    with pytest.raises(ChainError) as caught:
        verify_export(io.BytesIO(data))
    return caught.value


@given(exports())
def test_an_untouched_export_verifies(exported: Exported) -> None:
    summary = verify_export(io.BytesIO(exported.data))
    assert summary.rows == len(exported.rows)


@given(exports(min_rows=1), st.data())
def test_editing_one_value_of_one_row_is_detected_at_that_row(
    exported: Exported, data: st.DataObject
) -> None:
    read = exported.rows
    index = data.draw(st.integers(0, len(read) - 1))
    column = data.draw(st.integers(0, len(COLUMNS) - 1))
    values, chain = read[index]
    new_value = data.draw(text if exported.format_name == "csv" else st.none() | integer | text)
    edited = [*values[:column], new_value, *values[column + 1 :]]
    assume(canonical(edited) != canonical(values))
    error = rejects(reassemble(exported.data, [*read[:index], (edited, chain), *read[index + 1 :]]))
    # An edit can also make the line unreadable as a row (a CSV value starting with "#"
    # reads as a trailer): still refused, with a different reason.
    assert f"row {index + 1} does not match" in error.reason or "malformed" in error.reason


@given(exports(min_rows=1), st.data())
def test_deleting_one_row_is_detected(exported: Exported, data: st.DataObject) -> None:
    read = exported.rows
    index = data.draw(st.integers(0, len(read) - 1))
    rejects(reassemble(exported.data, read[:index] + read[index + 1 :]))


@given(exports(min_rows=2), st.data())
def test_swapping_two_rows_is_detected(exported: Exported, data: st.DataObject) -> None:
    read = list(exported.rows)
    first = data.draw(st.integers(0, len(read) - 2))
    second = data.draw(st.integers(first + 1, len(read) - 1))
    assume(canonical(read[first][0]) != canonical(read[second][0]))
    read[first], read[second] = read[second], read[first]
    rejects(reassemble(exported.data, read))


@given(exports(min_rows=1), st.data())
def test_inserting_a_row_is_detected(exported: Exported, data: st.DataObject) -> None:
    read = exported.rows
    index = data.draw(st.integers(0, len(read)))
    copied = read[data.draw(st.integers(0, len(read) - 1))]
    rejects(reassemble(exported.data, [*read[:index], copied, *read[index:]]))


@given(exports(), st.data())
def test_cutting_the_file_anywhere_before_its_last_line_end_is_detected(
    exported: Exported, data: st.DataObject
) -> None:
    ending = b"\r\n" if exported.format_name == "csv" else b"\n"
    rejects(exported.data[: data.draw(st.integers(0, len(exported.data) - len(ending) - 1))])


@given(exports(), st.data())
def test_an_altered_final_hash_is_detected(exported: Exported, data: st.DataObject) -> None:
    summary = verify_export(io.BytesIO(exported.data))
    other = data.draw(st.text("0123456789abcdef", min_size=64, max_size=64))
    assume(other != summary.final_hash)
    error = rejects(exported.data.replace(summary.final_hash.encode(), other.encode()))
    assert "final hash" in error.reason or "chain" in error.reason


@given(exports())
def test_changing_the_filter_named_in_the_header_is_detected(exported: Exported) -> None:
    rejects(exported.data.replace(b'"org-1"', b'"org-2"', 1))


@given(st.lists(stored_rows(), max_size=4))
def test_the_documented_stdlib_recipe_hashes_the_same_bytes(rows: list[dict[str, Any]]) -> None:
    """An auditor without this code recomputes the canonical bytes with ``json``."""
    for format_name, export_format in FORMATS.items():
        for row in rows:
            values = export_format.row_values(row)
            recipe = json.dumps(values, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
            assert canonical(values) == recipe.encode(), format_name
