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
