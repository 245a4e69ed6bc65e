"""The PrometheusRule covers every failure class, and each alert fires when it should and
stays quiet when it should not: `promtool` (Prometheus' own rule checker and unit-test
runner) on the rendered rules and on alert_scenarios.yaml."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.deploy.manifests import ROOT, Manifest, ToolMissingError, named

SCENARIOS = Path(__file__).with_name("alert_scenarios.yaml")
# The metric names (and the smoke's, docs/deploy.md "Metrics"): each failure class
# an alert must watch.
WATCHED_METRICS = (
    "ledger_renewals_at_risk",
    "ledger_inbox_failed",
    "ledger_inbox_pending",
    "ledger_projection_lag_seconds",
    "ledger_projection_lag_events",
    "ledger_worker_leader",
    "ledger_stripe_rate_limited_total",
    "ledger_stripe_requests_total",
    "ledger_quarantined_total",
    "ledger_syncs_total",
    "ledger_webhooks_received_total",
    "ledger_smoke_last_run_success",
    "ledger_smoke_last_success_timestamp_seconds",
)


def promtool() -> str:
    """Debian's promtool, unpacked into .venv/tools by `make test` (or one on PATH)."""
    unpacked = ROOT / ".venv" / "tools" / "promtool"
    if unpacked.is_file():
        return str(unpacked)
    found = shutil.which("promtool")
    if found is None:
        msg = "promtool is missing: `make test` unpacks Debian's prometheus package"
        if os.environ.get("CI"):
            raise ToolMissingError(msg)
        pytest.skip(msg)
    return found


def _rules(rendered: dict[str, list[Manifest]]) -> list[dict[str, Any]]:
    return [rule for group in _groups(rendered) for rule in group["rules"]]


def _groups(rendered: dict[str, list[Manifest]]) -> list[dict[str, Any]]:
    groups: list[dict[str, Any]] = named(rendered["base"], "PrometheusRule", "ledger-alerts")[
        "spec"
    ]["groups"]
    return groups


def _run(*args: str, cwd: Path) -> None:
    result = subprocess.run(
        [promtool(), *args], cwd=cwd, capture_output=True, text=True, check=False, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_failure_class_has_an_alert(rendered: dict[str, list[Manifest]]) -> None:
    expressions = " ".join(rule["expr"] for rule in _rules(rendered))
    missing = [metric for metric in WATCHED_METRICS if metric not in expressions]
    assert missing == []
    failed_syncs = [
        r for r in _rules(rendered) if 'ledger_syncs_total{outcome="failed"}' in r["expr"]
    ]
    assert failed_syncs


def test_every_alert_says_how_bad_and_what_to_do(rendered: dict[str, list[Manifest]]) -> None:
    for rule in _rules(rendered):
        assert rule["labels"]["severity"] in {"warning", "critical"}, rule["alert"]
        assert {"summary", "description"} <= set(rule["annotations"]), rule["alert"]


def test_the_rules_and_their_templates_parse(
    rendered: dict[str, list[Manifest]], tmp_path: Path
) -> None:
    (tmp_path / "rules.yaml").write_text(yaml.safe_dump({"groups": _groups(rendered)}))
    _run("check", "rules", "rules.yaml", cwd=tmp_path)


def test_each_alert_fires_in_its_scenario_and_stays_quiet_otherwise(
    rendered: dict[str, list[Manifest]], tmp_path: Path
) -> None:
    # Annotations are templated text, already checked above; the scenarios test the logic.
    groups = [
        {
            **group,
            "rules": [{k: v for k, v in r.items() if k != "annotations"} for r in group["rules"]],
        }
        for group in _groups(rendered)
    ]
    (tmp_path / "rules.yaml").write_text(yaml.safe_dump({"groups": groups}))
    shutil.copy(SCENARIOS, tmp_path / SCENARIOS.name)
    _run("test", "rules", SCENARIOS.name, cwd=tmp_path)


def test_every_alert_has_a_firing_and_a_quiet_scenario(
    rendered: dict[str, list[Manifest]],
) -> None:
    firing: set[str] = set()
    quiet: set[str] = set()
    for scenario in yaml.safe_load(SCENARIOS.read_text())["tests"]:
        for check in scenario["alert_rule_test"]:
            (firing if check["exp_alerts"] else quiet).add(check["alertname"])
    alerts = {rule["alert"] for rule in _rules(rendered)}
    assert alerts - firing == set()
    assert alerts - quiet == set()
    assert (firing | quiet) - alerts == set()
