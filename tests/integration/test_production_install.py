"""What production installs carries no Stripe test double, and runs without it: the wheel
`pip wheel .` builds holds none of stripe-double/, and `ledger` works where the double
cannot be imported (`ledger dev` says it needs the development install)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# The tree as a fresh clone has it: no stale setuptools build/ to leak old files in.
NOT_SOURCES = shutil.ignore_patterns(
    ".git", ".venv", "node_modules", "web", "var", "build", "dist", "*.egg-info",
    "__pycache__", ".mypy_cache", ".pytest_cache", ".ruff_cache", ".hypothesis",
    "test-artifacts",
)  # fmt: skip
# `ledger` in a fresh interpreter where `import stripe_double` fails, as it does when the
# double is not installed (a None in sys.modules makes Python refuse the import).
WITHOUT_DOUBLE = (
    "import sys; sys.modules['stripe_double'] = None; "
    "from app.entrypoints.cli import main; sys.exit(main(sys.argv[1:]))"
)


def ledger_without_double(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    # No ledger or Stripe settings from the outside: `dev up` is to want the double.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LEDGER_", "STRIPE_"))}
    return subprocess.run(
        [sys.executable, "-c", WITHOUT_DOUBLE, *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
        cwd=cwd,
        env=env,
    )


@pytest.fixture(scope="module")
def wheel_files(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    source = tmp_path_factory.mktemp("source") / "tree"
    shutil.copytree(ROOT, source, ignore=NOT_SOURCES)
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "-q", "-w", str(out)],
        capture_output=True,
        check=True,
        timeout=300,
    )
    (wheel,) = out.glob("renewal_ledger-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        return archive.namelist()


def test_the_wheel_carries_the_ledger(wheel_files: list[str]) -> None:
    assert "app/entrypoints/cli/__init__.py" in wheel_files
    assert "adapters/stripe/gateway.py" in wheel_files


def test_the_wheel_carries_no_stripe_double(wheel_files: list[str]) -> None:
    doubles = [
        name
        for name in wheel_files
        if name.startswith("stripe_double") or "/double/" in name or "stripe-double" in name
    ]
    assert doubles == []


def test_ledger_help_works_without_the_double(tmp_path: Path) -> None:
    result = ledger_without_double("--help", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "dev" in result.stdout


@pytest.mark.parametrize("command", [["dev", "stripe"], ["dev", "up"]])
def test_ledger_dev_without_the_double_says_it_needs_the_development_install(
    command: list[str], tmp_path: Path
) -> None:
    result = ledger_without_double(*command, cwd=tmp_path)
    assert result.returncode == 78
    error = result.stderr.strip()
    assert error.count("\n") == 0, error
    assert "needs the development install" in error
    assert "make run" in error


def test_the_image_build_copies_no_double() -> None:
    """The image's build stage copies named packages, none of them the double, and the
    double is outside the build context (tests/deploy/test_image.py checks a built image)."""
    copied = [
        source
        for line in (ROOT / "Dockerfile").read_text().splitlines()
        if line.startswith("COPY ") and "--from=" not in line
        for source in line.split()[1:-1]
    ]
    assert "domain" in copied
    assert [s for s in copied if s in {".", "./"} or "double" in s] == []
    ignored = (ROOT / ".dockerignore").read_text().splitlines()
    assert "stripe-double" in ignored
