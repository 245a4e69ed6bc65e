"""The dependency rule, as a test: domain/ knows nothing of infrastructure."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ALLOWED_THIRD_PARTY = {"eventsourcing.domain"}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_domain_imports_only_the_standard_library_and_eventsourcing_domain() -> None:
    offenders = []
    for path in sorted((ROOT / "domain").rglob("*.py")):
        for name in imported_modules(path):
            top = name.split(".")[0]
            if top in sys.stdlib_module_names or top in {"domain", "__future__"}:
                continue
            if name in ALLOWED_THIRD_PARTY:
                continue
            offenders.append(f"{path.relative_to(ROOT)} imports {name}")
    assert offenders == []


def test_projections_never_import_the_stripe_sdk_or_web_layer() -> None:
    offenders = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in sorted((ROOT / "projections").rglob("*.py"))
        for name in imported_modules(path)
        if name.split(".")[0] in {"stripe", "starlette", "app"}
    ]
    assert offenders == []


# The Stripe test double is a package of its own (stripe-double/), outside what ships.
PRODUCTION = ("domain", "projections", "adapters", "app", "migrations")
DOUBLE = "stripe_double"
DOUBLE_SOURCE = ROOT / "stripe-double" / DOUBLE
# `ledger dev` alone may import the double, and only inside its command functions, so that
# every other command (and `ledger --help`) runs where the double is not installed.
DOUBLE_USERS = ROOT / "app" / "entrypoints" / "cli" / "dev"


def imports_by_place(path: Path) -> list[tuple[str, bool]]:
    """Each absolute import in ``path``: the module and whether it runs at import time
    (outside every function)."""
    found: list[tuple[str, bool]] = []

    def visit(node: ast.AST, at_module_level: bool) -> None:
        if isinstance(node, ast.Import):
            found.extend((alias.name, at_module_level) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.module, at_module_level))
        inside = at_module_level and not isinstance(
            node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda
        )
        for child in ast.iter_child_nodes(node):
            visit(child, inside)

    visit(ast.parse(path.read_text(), filename=str(path)), at_module_level=True)
    return found


def test_production_code_never_imports_the_stripe_double() -> None:
    offenders = [
        f"{path.relative_to(ROOT)} imports {name}"
        for package in PRODUCTION
        for path in sorted((ROOT / package).rglob("*.py"))
        if not path.is_relative_to(DOUBLE_USERS)
        for name, _ in imports_by_place(path)
        if name.split(".")[0] == DOUBLE
    ]
    assert offenders == []


def test_ledger_dev_imports_the_stripe_double_only_inside_its_commands() -> None:
    offenders = [
        f"{path.relative_to(ROOT)} imports {name} at import time"
        for path in sorted(DOUBLE_USERS.rglob("*.py"))
        for name, at_module_level in imports_by_place(path)
        if name.split(".")[0] == DOUBLE and at_module_level
    ]
    assert offenders == []


def test_the_stripe_double_imports_nothing_of_the_ledger() -> None:
    modules = sorted(DOUBLE_SOURCE.rglob("*.py"))
    assert modules  # the double is where this test looks
    offenders = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in modules
        for name in imported_modules(path)
        if name.split(".")[0] in {*PRODUCTION, "tests"}
    ]
    assert offenders == []


def test_no_stripe_double_is_left_among_the_production_packages() -> None:
    # Sources only: a checkout that ran the old layout keeps untracked __pycache__ folders.
    leftovers = [
        str(path.relative_to(ROOT))
        for package in PRODUCTION
        for path in sorted((ROOT / package).rglob("*.py"))
        if {DOUBLE, "double"} & set(path.relative_to(ROOT).parent.parts)
    ]
    assert leftovers == []


PRODUCTION_PACKAGES = ("domain", "projections", "adapters", "app", "migrations")
MAX_MODULE_LINES = 400  # house style: most under ~300, none past what one person can hold


def test_no_production_module_grows_past_400_lines() -> None:
    too_long = [
        f"{path.relative_to(ROOT)}: {lines} lines"
        for package in PRODUCTION_PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
        if (lines := len(path.read_text().splitlines())) > MAX_MODULE_LINES
    ]
    assert too_long == []
