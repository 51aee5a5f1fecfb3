"""Which changes replace an object, as pulumi-kubernetes decides
(render/pulumi_kubernetes_replacement.py).

The cases are pulumi-kubernetes' own (`provider/pkg/provider/diff_test.go`, TestPatchToDiff, at
94977969d), each named as there, with the provider's defaults (ConfigMaps and Secrets not
mutable): a case expecting a `*_REPLACE` diff expects a replacement here, the others an update.
"""

from __future__ import annotations

from typing import Any

import pytest

from render.pulumi_kubernetes_replacement import replaced_by, values_at

POD = {"apiVersion": "v1", "kind": "Pod"}
PVC = {"apiVersion": "v1", "kind": "PersistentVolumeClaim"}
CONFIG_MAP = {"apiVersion": "v1", "kind": "ConfigMap"}
SECRET = {"apiVersion": "v1", "kind": "Secret"}


def containers(*items: dict[str, str]) -> dict[str, Any]:
    return {"spec": {"containers": list(items)}}


NGINX = {"name": "nginx", "image": "nginx"}
ALPINE = {"name": "nginx", "image": "nginx:1.15-alpine"}

CASES = [
    ("Adding spec and nested field results in correct diffs.",
     PVC, {"spec": {}}, {"spec": {"accessModes": {}}}, [".spec.accessModes"]),
    ("Deleting spec and nested field results in correct diffs.",
     PVC, {"spec": {"accessModes": {}}}, {"spec": {}}, [".spec.accessModes"]),
    ("Changing image spec results in correct diff.",
     POD, containers(NGINX), containers(ALPINE), [".spec.containers[*].image"]),
    ("Changing second image spec results in correct diff.",
     POD, containers(NGINX, NGINX), containers(NGINX, ALPINE), [".spec.containers[*].image"]),
    ("Changing DNS policy and image spec results in correct diff.",
     POD, containers({**NGINX, "dnsPolicy": "Default"}), containers({**ALPINE, "dnsPolicy": "None"}),
     [".spec.containers[*].image"]),
    ("Adding DNS policy results in correct diff.",
     POD, containers(NGINX), containers({**NGINX, "dnsPolicy": "Default"}), []),
    ("Changing DNS policy results in correct diff.",
     POD, containers({**NGINX, "dnsPolicy": "Default"}), containers({**NGINX, "dnsPolicy": "None"}), []),
    ("PVC resources don't trigger a replace.",
     PVC, {"spec": {"resources": {"requests": {"storage": "10Gi"}}}},
     {"spec": {"resources": {"requests": {"storage": "20Gi"}}}}, []),
    ("ConfigMap resources trigger a replace when enableConfigMapMutable is not set.",
     CONFIG_MAP, {"data": {"property1": "3"}}, {"data": {"property1": "4"}}, [".data"]),
    ("Secret resources trigger a replace when enableSecretMutable is not set.",
     SECRET, {"data": {"property1": "3"}}, {"data": {"property1": "4"}}, [".data"]),
    ("Secret resources trigger a replace when type changes even if enableSecretMutable is set.",
     SECRET, {"type": "kubernetes.io/dockerconfigjson", "data": {"property1": "3"}},
     {"type": "Opaque", "data": {"property1": "3"}}, [".type"]),
]  # fmt: skip


@pytest.mark.parametrize(("kind", "old", "new", "replaces"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])  # fmt: skip
def test_pulumi_kubernetes_cases(
    kind: dict[str, str], old: dict[str, Any], new: dict[str, Any], replaces: list[str]
) -> None:
    assert replaced_by({**kind, **old}, {**kind, **new}) == replaces


def test_labels_and_annotations_are_updated_in_place() -> None:
    old = {**CONFIG_MAP, "metadata": {"labels": {"v": "1"}}, "data": {"a": "b"}}
    new = {
        **CONFIG_MAP,
        "metadata": {"labels": {"v": "2"}, "annotations": {"x": "y"}},
        "data": {"a": "b"},
    }
    assert replaced_by(old, new) == []


def test_a_new_namespace_or_name_replaces_any_object() -> None:
    old = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "a", "namespace": "x"}}
    assert replaced_by(old, {**old, "metadata": {"name": "a", "namespace": "y"}}) == [
        ".metadata.namespace"
    ]
    assert replaced_by(old, {**old, "metadata": {"name": "b", "namespace": "x"}}) == [
        ".metadata.name"
    ]


def test_a_deployment_is_replaced_only_for_its_selector() -> None:
    old = {"apiVersion": "apps/v1", "kind": "Deployment",
           "spec": {"selector": {"matchLabels": {"app": "a"}}, "template": containers(NGINX)}}  # fmt: skip
    assert replaced_by(old, {**old, "spec": {**old["spec"], "template": containers(ALPINE)}}) == []
    moved = {**old, "spec": {**old["spec"], "selector": {"matchLabels": {"app": "b"}}}}
    assert replaced_by(old, moved) == [".spec.selector", ".spec.selector.matchLabels"]


def test_values_at_expands_every_list_element() -> None:
    pod = containers(NGINX, ALPINE)
    assert values_at(pod, ".spec.containers[*].image") == ["nginx", "nginx:1.15-alpine"]
    assert values_at(pod, ".spec.initContainers[*].image") == []
