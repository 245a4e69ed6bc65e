"""The layering of app/ (and what sits under it), as a test.

Use cases (``app/services``) know nothing of the entrypoints that call them or the wiring
that builds their dependencies; CLI commands hold no SQL; read models and adapters never
reach up into the application. (The domain's own rule is in ``test_architecture.py``.)
Each rule is a function over a source tree, run on the real tree and on a planted
violation, so that a rule that silently stopped finding anything would fail too.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.unit.test_architecture import imported_modules

ROOT = Path(__file__).resolve().parents[2]
# Frameworks of the entrypoints: a use case that needs one is an entrypoint in disguise.
ENTRYPOINT_LIBRARIES = {"starlette", "argparse", "rich", "uvicorn"}
ABOVE_USE_CASES = ("app.entrypoints", "app.bootstrap", "app.smoke")
SQL = re.compile(
    r"\bSELECT\b[\s\S]*\bFROM\b|\bINSERT\s+INTO\b|\bUPDATE\s+\w+\s+SET\b|\bDELETE\s+FROM\b"
)

Rule = Callable[[Path], list[str]]


def _sources(root: Path, folder: str) -> list[Path]:
    return sorted((root / folder).rglob("*.py"))


def _within(name: str, packages: tuple[str, ...]) -> bool:
    return any(name == package or name.startswith(f"{package}.") for package in packages)


def _imports_where(root: Path, folder: str, banned: Callable[[str], bool]) -> list[str]:
    return [
        f"{path.relative_to(root)} imports {name}"
        for path in _sources(root, folder)
        for name in sorted(imported_modules(path))
        if banned(name)
    ]


def use_cases_import_no_entrypoint(root: Path) -> list[str]:
    return _imports_where(
        root,
        "app/services",
        lambda name: name.split(".")[0] in ENTRYPOINT_LIBRARIES or _within(name, ABOVE_USE_CASES),
    )


def _string_literals(path: Path) -> list[tuple[int, str]]:
    """Every string constant, docstrings and f-strings' literal parts included."""
    tree = ast.parse(path.read_text(), filename=str(path))
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    ]


def cli_writes_no_sql(root: Path) -> list[str]:
    return [
        f"{path.relative_to(root)}:{line}: SQL"
        for path in _sources(root, "app/entrypoints/cli")
        for line, text in _string_literals(path)
        if SQL.search(text)
    ]


def projections_import_nothing_of_app(root: Path) -> list[str]:
    return _imports_where(root, "projections", lambda name: _within(name, ("app",)))


def adapters_import_nothing_of_app_or_projections(root: Path) -> list[str]:
    return _imports_where(root, "adapters", lambda name: _within(name, ("app", "projections")))


RULES: dict[str, Rule] = {
    "use cases import no entrypoint": use_cases_import_no_entrypoint,
    "the CLI writes no SQL": cli_writes_no_sql,
    "projections import nothing of app": projections_import_nothing_of_app,
    "adapters import nothing of app or projections": adapters_import_nothing_of_app_or_projections,
}

# A violation of each rule, planted in an otherwise empty tree.
PLANTS: dict[str, list[tuple[str, str]]] = {
    "use cases import no entrypoint": [
        ("app/services/a.py", "from starlette.requests import Request\n"),
        ("app/services/b/c.py", "def f() -> None:\n    import argparse\n"),
        ("app/services/d.py", "from app.bootstrap import Container\n"),
        ("app/services/e.py", "from app.entrypoints.http import problems\n"),
        ("app/services/f.py", "import rich.console\nimport uvicorn\n"),
        ("app/services/g.py", "from app.smoke.flow import run\n"),
    ],
    "the CLI writes no SQL": [
        ("app/entrypoints/cli/a.py", 'Q = "SELECT id FROM rm_renewals"\n'),
        ("app/entrypoints/cli/dev/b.py", 'def f(t: str) -> str:\n    return f"DELETE FROM {t}"\n'),
        ("app/entrypoints/cli/c.py", 'Q = """UPDATE rm_x SET a = 1"""\nR = "INSERT INTO t"\n'),
    ],
    "projections import nothing of app": [
        ("projections/a.py", "from app.settings import Settings\n"),
        ("projections/b.py", "import app.services.ledger\n"),
    ],
    "adapters import nothing of app or projections": [
        ("adapters/a.py", "from app.services.ledger import LedgerApplication\n"),
        ("adapters/b/c.py", "from projections.times import fmt_time\n"),
    ],
}


# What each rule must let pass, planted beside the violations.
ALLOWED: dict[str, tuple[str, str]] = {
    "use cases import no entrypoint": (
        "app/services/ok.py",
        "from app.settings import Settings\nfrom app.services.ledger import LedgerApplication\n",
    ),
    "the CLI writes no SQL": (
        "app/entrypoints/cli/ok.py",
        'HELP = "select a sync from the list, then update it"\n',
    ),
    "projections import nothing of app": ("projections/ok.py", "from domain import keys\n"),
    "adapters import nothing of app or projections": (
        "adapters/ok.py",
        "from domain.keys import checkout_key\nimport application\n",
    ),
}


def _plant(root: Path, name: str, source: str) -> None:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(source)


@pytest.mark.parametrize("rule", RULES, ids=str)
def test_the_tree_keeps_the_rule(rule: str) -> None:
    assert RULES[rule](ROOT) == []


@pytest.mark.parametrize("rule", RULES, ids=str)
def test_the_rule_finds_every_planted_violation_and_nothing_else(rule: str, tmp_path: Path) -> None:
    for name, source in [*PLANTS[rule], ALLOWED[rule]]:
        _plant(tmp_path, name, source)
    found = RULES[rule](tmp_path)
    reported = {finding.split(" ")[0].split(":")[0] for finding in found}
    assert reported == {name for name, _ in PLANTS[rule]}
