"""Every rendered manifest is valid for the cluster: Kubernetes' own OpenAPI schemas
(kubernetes-validate, strict: unknown fields are errors) for built-in kinds, and the
structural shapes in crd_shapes.py for the operators' custom resources."""

from __future__ import annotations

import copy

import jsonschema
import kubernetes_validate
import pytest

from tests.deploy.crd_shapes import SHAPES
from tests.deploy.manifests import Manifest, named

# The oldest Kubernetes we support (HPA v2, PDB v1, CronJob v1, the restricted Pod Security
# Standard by namespace label) and the newest the validator knows.
VERSIONS = ("1.30.0", kubernetes_validate.latest_version())


@pytest.mark.parametrize("version", VERSIONS)
def test_built_in_kinds_validate_against_the_kubernetes_schema(
    docs: list[Manifest], version: str
) -> None:
    for doc in docs:
        if (doc["apiVersion"], doc["kind"]) in SHAPES:
            continue
        try:
            kubernetes_validate.validate(doc, version, strict=True)
        except kubernetes_validate.ValidationError as error:
            where = ".".join(str(part) for part in error.path)
            pytest.fail(f"{doc['kind']}/{doc['metadata']['name']}: {where}: {error.message}")
        except kubernetes_validate.SchemaNotFoundError as error:
            pytest.fail(f"not a built-in kind and no shape for it: {error.message}")


def test_custom_resources_have_their_operators_shape(docs: list[Manifest]) -> None:
    custom = [doc for doc in docs if (doc["apiVersion"], doc["kind"]) in SHAPES]
    assert {doc["kind"] for doc in custom} >= {"ServiceMonitor", "PrometheusRule"}
    for doc in custom:
        jsonschema.validate(doc, SHAPES[(doc["apiVersion"], doc["kind"])])


class TestTheValidatorsCatchMistakes:
    """The checks above must be able to fail: a misspelt field is an error."""

    def test_an_unknown_field_in_a_deployment_is_refused(
        self, rendered: dict[str, list[Manifest]]
    ) -> None:
        server = copy.deepcopy(named(rendered["base"], "Deployment", "ledger-server"))
        server["spec"]["replica"] = 2
        with pytest.raises(kubernetes_validate.ValidationError):
            kubernetes_validate.validate(server, VERSIONS[0], strict=True)

    def test_a_wrong_type_in_a_probe_is_refused(self, rendered: dict[str, list[Manifest]]) -> None:
        server = copy.deepcopy(named(rendered["base"], "Deployment", "ledger-server"))
        server["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]["periodSeconds"] = (
            "5s"
        )
        with pytest.raises(kubernetes_validate.ValidationError):
            kubernetes_validate.validate(server, VERSIONS[0], strict=True)

    def test_a_misspelt_rule_field_is_refused(self, rendered: dict[str, list[Manifest]]) -> None:
        rules = copy.deepcopy(named(rendered["base"], "PrometheusRule", "ledger-alerts"))
        rules["spec"]["groups"][0]["rules"][0]["for_"] = "5m"
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(rules, SHAPES[("monitoring.coreos.com/v1", "PrometheusRule")])

    def test_a_cluster_without_storage_is_refused(
        self, rendered: dict[str, list[Manifest]]
    ) -> None:
        cluster = copy.deepcopy(named(rendered["overlays/production"], "Cluster", "ledger-db"))
        del cluster["spec"]["storage"]
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(cluster, SHAPES[("postgresql.cnpg.io/v1", "Cluster")])
