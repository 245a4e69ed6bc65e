"""Every workload the manifests run is hardened and holds no secret: the properties an
operations team checks before letting a service into a cluster."""

from __future__ import annotations

import re
from typing import Any

import yaml
from pydantic import SecretStr

from app.settings import Settings
from tests.deploy.manifests import ROOT, Manifest, config_map, env_of, of_kind, pod_spec, workloads

IMAGE_USER = re.search(r"^USER (\d+):(\d+)$", (ROOT / "Dockerfile").read_text(), re.MULTILINE)


def _containers(pod: dict[str, Any]) -> list[dict[str, Any]]:
    return [*pod.get("initContainers", []), *pod["containers"]]


def _secret_setting_names() -> set[str]:
    """Every setting typed SecretStr in app/settings.py, and the database URL (it carries
    the password)."""
    names = {"LEDGER_DATABASE_URL"}
    for field in Settings.model_fields.values():
        if SecretStr in getattr(field.annotation, "__args__", (field.annotation,)):
            assert isinstance(field.validation_alias, str)
            names.add(field.validation_alias)
    return names


SECRET_SETTINGS = _secret_setting_names()


class TestPods:
    def test_every_pod_runs_as_the_images_non_root_uid(self, docs: list[Manifest]) -> None:
        assert IMAGE_USER is not None, "the Dockerfile must set USER uid:gid numerically"
        for workload in workloads(docs):
            context = pod_spec(workload)["securityContext"]
            assert context["runAsNonRoot"] is True, workload["metadata"]["name"]
            assert context["runAsUser"] == int(IMAGE_USER[1]) != 0
            assert context["runAsGroup"] == int(IMAGE_USER[2]) != 0
            assert context["seccompProfile"] == {"type": "RuntimeDefault"}

    def test_root_file_systems_are_read_only_with_a_writable_tmp(
        self, docs: list[Manifest]
    ) -> None:
        for workload in workloads(docs):
            pod = pod_spec(workload)
            empty_dirs = {v["name"] for v in pod.get("volumes", []) if "emptyDir" in v}
            for container in _containers(pod):
                assert container["securityContext"]["readOnlyRootFilesystem"] is True
                mounts = {m["mountPath"]: m["name"] for m in container.get("volumeMounts", [])}
                assert mounts.get("/tmp") in empty_dirs, workload["metadata"]["name"]

    def test_no_container_can_gain_privileges(self, docs: list[Manifest]) -> None:
        for workload in workloads(docs):
            pod = pod_spec(workload)
            assert not any(pod.get(key) for key in ("hostNetwork", "hostPID", "hostIPC"))
            for container in _containers(pod):
                context = container["securityContext"]
                assert context["allowPrivilegeEscalation"] is False
                assert context.get("privileged", False) is False
                assert context["capabilities"] == {"drop": ["ALL"]}

    def test_no_pod_can_reach_the_kubernetes_api(self, docs: list[Manifest]) -> None:
        accounts = of_kind(docs, "ServiceAccount")
        assert [a["metadata"]["name"] for a in accounts] == ["ledger"]
        assert accounts[0]["automountServiceAccountToken"] is False
        for workload in workloads(docs):
            pod = pod_spec(workload)
            assert pod["serviceAccountName"] == "ledger"
            assert pod["automountServiceAccountToken"] is False
        rbac = [d for d in docs if d["apiVersion"].startswith("rbac.authorization.k8s.io")]
        assert rbac == []

    def test_every_container_requests_cpu_and_memory_and_caps_memory(
        self, docs: list[Manifest]
    ) -> None:
        for workload in workloads(docs):
            for container in _containers(pod_spec(workload)):
                resources = container["resources"]
                assert {"cpu", "memory"} <= set(resources["requests"])
                assert "memory" in resources["limits"]

    def test_one_release_runs_one_pinned_image(self, docs: list[Manifest]) -> None:
        images = {
            container["image"]
            for workload in workloads(docs)
            for container in _containers(pod_spec(workload))
        }
        assert len(images) == 1
        (image,) = images
        if image != "renewal-ledger":  # the base alone leaves the name to its overlays
            name, _, tag = image.rpartition(":")
            assert "/" in name, f"{image} names no registry"
            assert tag not in ("", "latest"), f"{image} is not pinned to a release"


class TestSecrets:
    def test_no_secret_or_credential_is_written_in_the_manifests(
        self, docs: list[Manifest]
    ) -> None:
        assert of_kind(docs, "Secret") == []
        text = yaml.safe_dump_all(docs)
        for pattern in (
            r"\b[sr]k_(live|test)_\w+",
            r"\bwhsec_\w+",
            r"postgres(ql)?://[^\s@/]*:[^\s@/]*@",
        ):
            assert re.search(pattern, text) is None, pattern

    def test_secret_settings_are_only_ever_read_from_secrets(self, docs: list[Manifest]) -> None:
        assert {"STRIPE_API_KEY", "STRIPE_WEBHOOK_SECRET", "LEDGER_TOKEN_SECRET"} <= SECRET_SETTINGS
        assert SECRET_SETTINGS.isdisjoint(config_map(docs)["data"])
        for workload in workloads(docs):
            for container in _containers(pod_spec(workload)):
                for name, item in env_of(container).items():
                    if name in SECRET_SETTINGS:
                        assert "value" not in item, f"{name} is written in {workload['kind']}"
                        assert set(item["valueFrom"]["secretKeyRef"]) == {"name", "key"}

    def test_the_server_gets_every_secret_it_checks(self, docs: list[Manifest]) -> None:
        server = next(w for w in workloads(docs) if w["metadata"]["name"] == "ledger-server")
        env = env_of(pod_spec(server)["containers"][0])
        assert set(env) >= SECRET_SETTINGS
