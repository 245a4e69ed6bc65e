"""The GitHub workflows (which cannot run here) are well-formed and do what the README says:
CI runs `.ci/run` beside a PostgreSQL service; a version tag builds and pushes the image."""

from __future__ import annotations

from typing import Any

import yaml

from tests.deploy.manifests import ROOT

WORKFLOWS = ROOT / ".github" / "workflows"


def _load(name: str) -> dict[Any, Any]:
    workflow: dict[Any, Any] = yaml.safe_load((WORKFLOWS / name).read_text())
    return workflow


def _steps(job: dict[str, Any]) -> list[str]:
    return [step.get("run", step.get("uses", "")) for step in job["steps"]]


def test_ci_runs_the_readmes_test_command_beside_postgres() -> None:
    workflow = _load("ci.yml")
    triggers = workflow[True]  # YAML 1.1 reads the key `on` as true
    assert {"push", "pull_request"} <= set(triggers)
    test = workflow["jobs"]["test"]
    assert "bash .ci/run" in _steps(test)
    assert test["services"]["postgres"]["ports"] == ["5432:5432"]
    assert test["env"]["LEDGER_TEST_DATABASE_URL"].startswith("postgresql://postgres@127.0.0.1")


def test_ci_builds_and_runs_the_image_with_real_bases() -> None:
    image = _load("ci.yml")["jobs"]["image"]
    assert image["env"]["LEDGER_IMAGE_TEST"] == "1"
    assert any("tests/deploy/test_image.py" in step for step in _steps(image))


def test_a_version_tag_pushes_the_image_to_the_registry() -> None:
    workflow = _load("release.yml")
    assert workflow[True] == {"push": {"tags": ["v*.*.*"]}}
    job = workflow["jobs"]["image"]
    (push,) = [s for s in job["steps"] if s.get("uses", "").startswith("docker/build-push-action")]
    assert push["with"]["push"] is True
    assert workflow["permissions"]["packages"] == "write"


def test_the_smoke_job_runs_ledger_smoke_in_a_browser_against_a_given_url() -> None:
    workflow = _load("smoke.yml")
    inputs = workflow[True]["workflow_dispatch"]["inputs"]
    assert inputs["url"]["required"] is True
    assert inputs["mode"]["default"] == "browser"
    job = workflow["jobs"]["smoke"]
    steps = _steps(job)
    assert "python -m pip install '.[smoke]'" in steps
    (smoke,) = [s for s in steps if s.startswith("ledger smoke")]
    assert '--url "$SMOKE_URL"' in smoke
    assert '--mode "$SMOKE_MODE"' in smoke
    # The inputs never appear inside a script (no expression injection).
    assert not any("${{" in s for s in steps)
    assert job["env"]["STRIPE_API_KEY"] == "${{ secrets.STRIPE_TEST_API_KEY }}"
