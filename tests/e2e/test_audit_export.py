"""``ledger audit export`` and ``ledger audit verify`` as an auditor runs them."""

from __future__ import annotations

import csv
import io
import os
import pty
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import orjson
import pytest

from app.bootstrap import bootstrap
from app.settings import load_settings
from projections.runner import LogReader, build_read_models, catch_up
from tests.support.clock import SteppingClock
from tests.support.histories import T0, seed_history
from tests.support.postgres import fresh_schema
from tests.support.processes import LEDGER, ledger_env, run_ledger

FROM, TO = "2026-03-01T00:05:00Z", "2026-03-01T01:30:00+01:00"  # [00:05, 00:30) UTC
EVERYTHING = ("--from", "2026-01-01T00:00:00Z", "--to", "2027-01-01T00:00:00Z")
FORMATS = ("csv", "jsonl")


@dataclass(frozen=True)
class Store:
    url: str
    env: dict[str, str]


def seed(url: str) -> None:
    """A projected history whose facts are recorded 20 seconds apart from T0 on."""
    container = bootstrap(
        load_settings(database_url=url),
        clock=SteppingClock(T0, step=timedelta(seconds=20)),
        embedded_migrate=False,
    )
    try:
        container.migrate()
        seed_history(container.ledger, organizers=3, steps=120)
        catch_up(
            LogReader(container.ledger), build_read_models(container.database, minimum_quantity=1)
        )
    finally:
        container.close()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """SQLite in the working directory (the embedded default), or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        seed(f"sqlite:///{tmp_path / 'var' / 'ledger.sqlite3'}")
        yield Store(f"sqlite:///{tmp_path / 'var' / 'ledger.sqlite3'}", {})
        return
    server_url: str = request.getfixturevalue("postgres_url")
    with fresh_schema(server_url) as url:
        seed(url)
        yield Store(url, {"LEDGER_DATABASE_URL": url})


def export(
    cwd: Path, env: dict[str, str], *args: str, output: str | None = None
) -> subprocess.CompletedProcess[str]:
    extra = () if output is None else ("--output", output)
    result = run_ledger("audit", "export", *args, *extra, cwd=cwd, env=env)
    assert result.returncode == 0, result.stderr
    return result


def stdout_bytes(cwd: Path, env: dict[str, str], *args: str) -> bytes:
    """An export to stdout, byte for byte (``run_ledger`` reads text, which folds CRLF)."""
    result = subprocess.run(
        [*LEDGER, "audit", "export", *args],
        cwd=cwd,
        env=ledger_env(env),
        capture_output=True,
        timeout=60,
        check=True,
    )
    return result.stdout


def verify(cwd: Path, name: str) -> subprocess.CompletedProcess[str]:
    return run_ledger("audit", "verify", name, cwd=cwd)


def jsonl_rows(path: Path) -> list[dict[str, object]]:
    lines = path.read_bytes().splitlines()
    return [orjson.loads(line) for line in lines[1:-1]]


@pytest.mark.parametrize("format_name", FORMATS)
class TestExport:
    def test_an_export_verifies_and_both_name_the_same_final_hash(
        self, store: Store, tmp_path: Path, format_name: str
    ) -> None:
        name = f"audit.{format_name}"
        exported = export(tmp_path, store.env, *EVERYTHING, "--format", format_name, output=name)
        checked = verify(tmp_path, name)
        assert checked.returncode == 0, checked.stderr
        final_hash = checked.stdout.split("final hash ")[1].strip()
        assert checked.stdout.startswith("OK: ")
        assert exported.stderr.strip().endswith(f"final hash {final_hash}")
        assert "[" not in exported.stderr  # no progress bar when stderr is not a terminal

    def test_stdout_carries_the_same_bytes_as_the_output_file(
        self, store: Store, tmp_path: Path, format_name: str
    ) -> None:
        export(tmp_path, store.env, "--from", FROM, "--to", TO, "--format", format_name, output="f")
        assert stdout_bytes(
            tmp_path, store.env, "--from", FROM, "--to", TO, "--format", format_name
        ) == ((tmp_path / "f").read_bytes())


class TestFilters:
    def test_rows_are_those_recorded_in_the_half_open_range_in_log_order(
        self, store: Store, tmp_path: Path
    ) -> None:
        export(tmp_path, store.env, *EVERYTHING, "--format", "jsonl", output="all.jsonl")
        export(tmp_path, store.env, "--from", FROM, "--to", TO, "--format", "jsonl", output="r")
        everything, ranged = jsonl_rows(tmp_path / "all.jsonl"), jsonl_rows(tmp_path / "r")
        expected = [
            {k: v for k, v in row.items() if k != "chain"}
            for row in everything
            if "2026-03-01T00:05:00.000000Z" <= str(row["recorded_at"]) < "2026-03-01T00:30"
        ]
        assert 0 < len(expected) < len(everything)
        assert [{k: v for k, v in row.items() if k != "chain"} for row in ranged] == expected
        keys = [(row["position"], row["seq"]) for row in everything]
        assert keys == sorted(keys)

    def test_the_organizer_option_keeps_one_organizers_rows(
        self, store: Store, tmp_path: Path
    ) -> None:
        export(
            tmp_path, store.env, *EVERYTHING, "--organizer", "org-1", "--format", "csv", output="o"
        )
        lines = (tmp_path / "o").read_text().splitlines()
        rows = list(csv.DictReader(io.StringIO("\n".join(lines[1:-1]))))
        assert rows
        assert {row["organizer_id"] for row in rows} == {"org-1"}
        assert verify(tmp_path, "o").returncode == 0


@pytest.mark.postgres
def test_the_same_history_exports_identically_from_both_stores(
    tmp_path: Path, postgres_url: str
) -> None:
    (tmp_path / "lite").mkdir()
    seed(f"sqlite:///{tmp_path / 'lite' / 'var' / 'ledger.sqlite3'}")
    lite = stdout_bytes(tmp_path / "lite", {}, *EVERYTHING, "--format", "csv")
    with fresh_schema(postgres_url) as url:
        seed(url)
        env = {"LEDGER_DATABASE_URL": url}
        assert stdout_bytes(tmp_path, env, *EVERYTHING, "--format", "csv") == lite


def test_on_a_terminal_a_progress_bar_is_drawn_on_stderr(tmp_path: Path) -> None:
    seed(f"sqlite:///{tmp_path / 'var' / 'ledger.sqlite3'}")
    controller, terminal = pty.openpty()
    with subprocess.Popen(
        [*LEDGER, "audit", "export", *EVERYTHING, "--format", "csv", "--output", "x.csv"],
        cwd=tmp_path,
        env=ledger_env({"COLUMNS": "120"}),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=terminal,
    ) as process:
        os.close(terminal)
        drawn = b""
        while True:
            try:
                chunk = os.read(controller, 4096)
            except OSError:  # EIO: the process closed the terminal
                break
            if not chunk:
                break
            drawn += chunk
        assert process.wait(timeout=60) == 0
    os.close(controller)
    assert b"audit export" in drawn
    assert b"rows/s" in drawn


# -- tampering ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """One untouched export per format, made once for all the tampering tests."""
    workdir = tmp_path_factory.mktemp("exports")
    seed(f"sqlite:///{workdir / 'var' / 'ledger.sqlite3'}")
    for format_name in FORMATS:
        export(workdir, {}, *EVERYTHING, "--format", format_name, output=format_name)
    return {name: (workdir / name).read_bytes() for name in FORMATS}


def edit_a_value(lines: list[bytes], format_name: str) -> list[bytes]:
    index = len(lines) // 2
    if format_name == "jsonl":
        row = orjson.loads(lines[index])
        row["quantity"] = (row["quantity"] or 0) + 1
        edited = orjson.dumps(row) + b"\n"
    else:
        (fields,) = csv.reader([lines[index].decode()])
        fields[8] = str(int(fields[8] or 0) + 1)  # quantity
        out = io.StringIO()
        csv.writer(out).writerow(fields)
        edited = out.getvalue().encode()
    return [*lines[:index], edited, *lines[index + 1 :]]


def delete_a_row(lines: list[bytes], _: str) -> list[bytes]:
    return lines[:5] + lines[6:]


def swap_two_rows(lines: list[bytes], _: str) -> list[bytes]:
    return [*lines[:5], lines[6], lines[5], *lines[7:]]


def truncate(lines: list[bytes], _: str) -> list[bytes]:
    return lines[:-3]


def alter_the_final_hash(lines: list[bytes], _: str) -> list[bytes]:
    last = lines[-1]
    position = last.index(b"final_hash") + 20
    flipped = b"0" if last[position : position + 1] != b"0" else b"1"
    return [*lines[:-1], last[:position] + flipped + last[position + 1 :]]


Tamper = Callable[[list[bytes], str], list[bytes]]


class TestVerify:
    @pytest.mark.parametrize("format_name", FORMATS)
    @pytest.mark.parametrize(
        ("tamper", "first_bad_line"),
        [
            (edit_a_value, "middle"),
            (delete_a_row, 6),
            (swap_two_rows, 6),
            (truncate, "after the end"),
            (alter_the_final_hash, "end"),
        ],
    )
    def test_a_tampered_export_fails_naming_the_first_bad_line(
        self,
        exported: dict[str, bytes],
        tmp_path: Path,
        format_name: str,
        tamper: Tamper,
        first_bad_line: int | str,
    ) -> None:
        lines = exported[format_name].splitlines(keepends=True)
        tampered = tamper(lines, format_name)
        (tmp_path / "tampered").write_bytes(b"".join(tampered))
        result = verify(tmp_path, "tampered")
        assert result.returncode == 1
        assert result.stdout == ""
        (message,) = result.stderr.splitlines()
        expected_line = {
            "middle": len(lines) // 2 + 1,
            "end": len(tampered),
            "after the end": len(tampered) + 1,
        }.get(str(first_bad_line), first_bad_line)
        assert f"line {expected_line}:" in message

    @pytest.mark.parametrize("format_name", FORMATS)
    def test_the_untouched_export_passes(
        self, exported: dict[str, bytes], tmp_path: Path, format_name: str
    ) -> None:
        (tmp_path / "copy").write_bytes(exported[format_name])
        result = verify(tmp_path, "copy")
        assert result.returncode == 0, result.stderr
        rows = len(exported[format_name].splitlines()) - (3 if format_name == "csv" else 2)
        assert result.stdout.startswith(f"OK: {rows} rows, final hash ")

    @pytest.mark.parametrize("format_name", FORMATS)
    def test_dash_verifies_an_export_piped_from_ledger_audit_export(
        self, store: Store, tmp_path: Path, format_name: str
    ) -> None:
        """``ledger audit export … | ledger audit verify -``: a real pipe, two processes."""
        env = ledger_env(store.env)
        args = [*EVERYTHING, "--format", format_name]
        with subprocess.Popen(
            [*LEDGER, "audit", "export", *args], cwd=tmp_path, env=env,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        ) as exporter:  # fmt: skip
            assert exporter.stdout is not None
            checked = subprocess.run(
                [*LEDGER, "audit", "verify", "-"], cwd=tmp_path, env=env, stdin=exporter.stdout,
                capture_output=True, text=True, timeout=60, check=False,
            )  # fmt: skip
            exporter.stdout.close()
            assert exporter.wait(timeout=60) == 0
            assert exporter.stderr is not None
            exported = exporter.stderr.read().decode()
        assert checked.returncode == 0, checked.stderr
        assert checked.stdout.startswith("OK: ")
        final_hash = checked.stdout.split("final hash ")[1].strip()
        assert exported.strip().endswith(f"final hash {final_hash}")
        assert not (tmp_path / "-").exists()

    def test_dash_names_standard_input_when_the_piped_text_is_not_an_export(
        self, tmp_path: Path
    ) -> None:
        result = subprocess.run(
            [*LEDGER, "audit", "verify", "-"], cwd=tmp_path, env=ledger_env(),
            input="hello\n", capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert result.returncode == 1
        (message,) = result.stderr.splitlines()
        assert message.startswith("ledger: standard input: FAILED at line 1: not an audit export")

    def test_a_file_that_is_not_an_export_fails(self, tmp_path: Path) -> None:
        (tmp_path / "notes.txt").write_text("hello\n")
        result = verify(tmp_path, "notes.txt")
        assert result.returncode == 1
        assert "line 1: not an audit export" in result.stderr

    def test_a_missing_file_is_a_usage_error(self, tmp_path: Path) -> None:
        result = verify(tmp_path, "absent.csv")
        assert result.returncode == 2
        assert len(result.stderr.splitlines()) == 1


class TestArguments:
    def test_an_inverted_range_is_a_usage_error_naming_to(self, tmp_path: Path) -> None:
        result = run_ledger(
            "audit", "export", "--from", TO, "--to", FROM, "--format", "csv", cwd=tmp_path
        )
        assert result.returncode == 2
        assert "--to" in result.stderr
        assert len(result.stderr.splitlines()) == 1

    def test_a_naive_time_is_a_usage_error_naming_from(self, tmp_path: Path) -> None:
        result = run_ledger(
            "audit", "export", "--from", "2026-03-01", "--to", TO, "--format", "csv", cwd=tmp_path
        )
        assert result.returncode == 2
        assert "--from" in result.stderr

    def test_a_failed_export_leaves_no_file_under_the_asked_for_name(self, tmp_path: Path) -> None:
        env = {"LEDGER_DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"}
        result = run_ledger(
            "audit", "export", *EVERYTHING, "--format", "csv", "--output", "x.csv",
            cwd=tmp_path, env=env,
        )  # fmt: skip
        assert result.returncode == 1
        assert not list(tmp_path.iterdir())
