"""The parts are wired as docs/deploy.md says: replicas, probes, ports, selectors, the
migrate Job, the smoke CronJob, the database of each overlay, and the network policies."""

from __future__ import annotations

from typing import Any

import pytest

from app.settings import Settings, load_settings
from tests.deploy.manifests import (
    Manifest,
    config_map,
    env_of,
    labels_match,
    named,
    of_kind,
    pod_labels,
    pod_spec,
    workloads,
)

# Read by the ledger but not (yet) fields of Settings: the LEDGER_LOG_FORMAT and
# LEDGER_WORKER_METRICS_PORT, the SPA folder app/entrypoints/http/routes/spa.py reads, and
# libpq's own TLS variables (every PostgreSQL connection honours them).
OTHER_SETTINGS = {"LEDGER_LOG_FORMAT", "LEDGER_WORKER_METRICS_PORT", "LEDGER_WEB_DIST"}
OTHER_SETTINGS |= {"PGSSLMODE", "PGSSLROOTCERT"}


def _container(docs: list[Manifest], kind: str, name: str) -> dict[str, Any]:
    container: dict[str, Any] = pod_spec(named(docs, kind, name))["containers"][0]
    return container


def _port(container: dict[str, Any], name: str) -> int:
    ports: dict[str, int] = {p["name"]: p["containerPort"] for p in container.get("ports", [])}
    return ports[name]


class TestConfiguration:
    def test_the_config_map_holds_settings_the_ledger_reads_and_accepts(
        self, docs: list[Manifest]
    ) -> None:
        data = config_map(docs)["data"]
        aliases = {f.validation_alias for f in Settings.model_fields.values()}
        assert set(data) <= aliases | OTHER_SETTINGS, set(data) - aliases - OTHER_SETTINGS
        load_settings(**{k: v for k, v in data.items() if k in aliases})  # raises if bad

    def test_logs_are_json_lines(self, docs: list[Manifest]) -> None:
        assert config_map(docs)["data"]["LEDGER_LOG_FORMAT"] == "json"


class TestServer:
    def test_at_least_two_replicas_replaced_one_ready_pod_at_a_time(
        self, docs: list[Manifest]
    ) -> None:
        server = named(docs, "Deployment", "ledger-server")
        assert server["spec"]["replicas"] >= 2
        assert server["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
        hpa = named(docs, "HorizontalPodAutoscaler", "ledger-server")
        assert hpa["spec"]["scaleTargetRef"]["name"] == "ledger-server"
        assert hpa["spec"]["minReplicas"] >= 2

    def test_ready_on_readyz_alive_on_healthz(self, docs: list[Manifest]) -> None:
        container = _container(docs, "Deployment", "ledger-server")
        assert container["args"][0] == "serve"
        for probe, path in (("readinessProbe", "/readyz"), ("livenessProbe", "/healthz")):
            assert container[probe]["httpGet"] == {"path": path, "port": "http"}
        assert _port(container, "http") == int(container["args"][-1])

    def test_the_service_and_budget_cover_the_server_pods(self, docs: list[Manifest]) -> None:
        labels = pod_labels(named(docs, "Deployment", "ledger-server"))
        service = named(docs, "Service", "ledger-server")
        assert labels_match(service["spec"]["selector"], labels)
        assert service["spec"]["ports"] == [{"name": "http", "port": 80, "targetPort": "http"}]
        budget = named(docs, "PodDisruptionBudget", "ledger-server")["spec"]
        assert labels_match(budget["selector"]["matchLabels"], labels)
        assert budget["minAvailable"] == 1


class TestWorker:
    def test_two_replicas_one_leads_one_stands_by(self, docs: list[Manifest]) -> None:
        worker = named(docs, "Deployment", "ledger-worker")
        assert worker["spec"]["replicas"] == 2
        assert worker["spec"]["strategy"]["rollingUpdate"] == {"maxSurge": 0, "maxUnavailable": 1}
        assert named(docs, "PodDisruptionBudget", "ledger-worker")["spec"]["maxUnavailable"] == 1

    def test_liveness_is_the_workers_healthz_on_its_metrics_port(
        self, docs: list[Manifest]
    ) -> None:
        container = _container(docs, "Deployment", "ledger-worker")
        assert container["args"] == ["worker"]
        port = int(config_map(docs)["data"]["LEDGER_WORKER_METRICS_PORT"])
        assert port == _port(container, "metrics") == 9464
        assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "metrics"}

    def test_prometheus_scrapes_every_server_and_worker_pod(self, docs: list[Manifest]) -> None:
        for name, port in (("ledger-server", "http"), ("ledger-worker", "metrics")):
            service = named(docs, "Service", name)
            monitor = named(docs, "ServiceMonitor", name)["spec"]
            assert labels_match(monitor["selector"]["matchLabels"], service["metadata"]["labels"])
            assert [(e["port"], e["path"]) for e in monitor["endpoints"]] == [(port, "/metrics")]
            assert port in {p["name"] for p in service["spec"]["ports"]}
        assert named(docs, "Service", "ledger-worker")["spec"]["clusterIP"] == "None"


class TestJobs:
    def test_migrate_runs_ledger_migrate_once_to_completion(self, docs: list[Manifest]) -> None:
        job = named(docs, "Job", "ledger-migrate")
        assert pod_spec(job)["containers"][0]["args"] == ["migrate"]
        assert pod_spec(job)["restartPolicy"] == "Never"

    def test_smoke_runs_against_the_in_cluster_server(self, docs: list[Manifest]) -> None:
        container = _container(docs, "CronJob", "ledger-smoke")
        assert container["args"] == ["smoke", "--url", "http://ledger-server"]
        assert named(docs, "Service", "ledger-server")["spec"]["ports"][0]["port"] == 80
        cron = named(docs, "CronJob", "ledger-smoke")["spec"]
        assert cron["concurrencyPolicy"] == "Forbid"
        assert cron["jobTemplate"]["spec"]["backoffLimit"] == 0


def _database_refs(docs: list[Manifest]) -> set[tuple[str, str]]:
    refs = set()
    for workload in workloads(docs):
        env = env_of(pod_spec(workload)["containers"][0])
        if "LEDGER_DATABASE_URL" in env:
            ref = env["LEDGER_DATABASE_URL"]["valueFrom"]["secretKeyRef"]
            refs.add((ref["name"], ref["key"]))
    return refs


class TestDatabase:
    def test_production_reads_the_url_cloudnativepg_generates(
        self, rendered: dict[str, list[Manifest]]
    ) -> None:
        docs = rendered["overlays/production"]
        (cluster,) = of_kind(docs, "Cluster")
        assert cluster["spec"]["instances"] >= 2
        assert _database_refs(docs) == {(f"{cluster['metadata']['name']}-app", "uri")}

    def test_external_db_reads_the_url_from_its_own_secret(
        self, rendered: dict[str, list[Manifest]]
    ) -> None:
        docs = rendered["overlays/external-db"]
        assert of_kind(docs, "Cluster") == []
        assert _database_refs(docs) == {("ledger-database", "url")}

    @pytest.mark.parametrize("name", ["ledger-server", "ledger-worker", "ledger-migrate"])
    def test_everything_that_opens_the_store_has_its_url(
        self, docs: list[Manifest], name: str
    ) -> None:
        kind = "Job" if name == "ledger-migrate" else "Deployment"
        assert "LEDGER_DATABASE_URL" in env_of(_container(docs, kind, name))


def _policies_for(docs: list[Manifest], labels: dict[str, str]) -> list[dict[str, Any]]:
    def selects(selector: dict[str, Any]) -> bool:
        expressions = selector.get("matchExpressions", [])
        return labels_match(selector.get("matchLabels", {}), labels) and all(
            labels.get(e["key"]) in e["values"] for e in expressions
        )

    return [p["spec"] for p in of_kind(docs, "NetworkPolicy") if selects(p["spec"]["podSelector"])]


class TestNetworkPolicies:
    def test_every_pod_is_denied_by_default(self, docs: list[Manifest]) -> None:
        deny = named(docs, "NetworkPolicy", "ledger-default-deny")["spec"]
        assert deny["policyTypes"] == ["Ingress", "Egress"]
        assert "ingress" not in deny
        assert "egress" not in deny
        for workload in workloads(docs):
            labels = pod_labels(workload)
            assert deny in _policies_for(docs, labels)

    def test_each_part_may_reach_what_it_needs(self, docs: list[Manifest]) -> None:
        needs = {"ledger-server": {5432, 443}, "ledger-worker": {5432, 443}}
        needs |= {"ledger-migrate": {5432}, "ledger-smoke": {8000}}
        for workload in workloads(docs):
            policies = _policies_for(docs, pod_labels(workload))
            allowed = {
                port["port"]
                for p in policies
                for rule in p.get("egress", [])
                for port in rule["ports"]
            }
            assert needs[workload["metadata"]["name"]] | {53} <= allowed

    def test_production_reaches_postgres_only_on_its_cluster(
        self, rendered: dict[str, list[Manifest]]
    ) -> None:
        docs = rendered["overlays/production"]
        egress = named(docs, "NetworkPolicy", "ledger-database-egress")["spec"]["egress"]
        (database,) = [
            rule for rule in egress if {"port": 5432, "protocol": "TCP"} in rule["ports"]
        ]
        assert database["to"] == [
            {"podSelector": {"matchLabels": {"cnpg.io/cluster": "ledger-db"}}}
        ]
