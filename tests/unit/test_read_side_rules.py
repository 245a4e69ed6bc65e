"""The read side has one home: only projections/ writes SQL over read-model tables.

app/ asks the read models' query functions (typed rows out); a table name of a read
model (``rm_...``) in a string of app/ is SQL over it written in the wrong place.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
READ_MODEL_TABLE = re.compile(r"\brm_[a-z_]+")


def docstrings(tree: ast.AST) -> set[int]:
    """ids of the docstring constants (prose may name a table)."""
    found: set[int] = set()
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
            and node.body
        ):
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found


def table_names_in_strings(source: str, name: str) -> Iterator[str]:
    """``name:line: table`` for each read-model table named in a non-docstring string
    (f-strings included: their literal parts are constants too)."""
    tree = ast.parse(source, filename=name)
    prose = docstrings(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in prose:
            for match in READ_MODEL_TABLE.finditer(node.value):
                yield f"{name}:{node.lineno}: {match.group()}"


def test_no_module_of_app_names_a_read_model_table_in_its_code() -> None:
    found = [
        hit
        for path in sorted((ROOT / "app").rglob("*.py"))
        for hit in table_names_in_strings(path.read_text(), str(path.relative_to(ROOT)))
    ]
    assert found == []


def test_the_scan_finds_sql_in_f_strings_but_not_prose_or_other_names() -> None:
    source = (
        '"""Reads ``rm_renewals`` (prose)."""\n'
        'FIELD = "platform_organizer_id"\n'
        "def due(n: int) -> str:\n"
        '    """Also prose: rm_renewals."""\n'
        '    return f"SELECT * FROM rm_renewals LIMIT {n}"\n'
    )
    assert list(table_names_in_strings(source, "probe.py")) == ["probe.py:5: rm_renewals"]
