"""pulumi-kubernetes' replacement rules: which changes make the provider replace an object
instead of patching it in place.

Ports pulumi/pulumi-kubernetes provider/pkg/provider/diff.go (`forceNewProperties` and its
tables) of 4.25.0 (f47bc2d6f199, the release requirements.lock and toolchain/tools.toml pin), read
at 94977969d (v4.32.0+27), whose diff.go differs only in an equivalent rewrite of a condition. A
value changing under one of these paths (`[*]`: every element of a list) replaces the object.
ConfigMaps and Secrets are replaced whenever their data changes (the provider's default, without
`enableConfigMapMutable`/`enableSecretMutable`), which gives an auto-named one a new name and
rolls the pods that mount it.

Not ported: API versions current clusters no longer serve (apps/v1beta1, policy/v1beta1, ...),
and the provider's options that make ConfigMaps and Secrets mutable (this project sets neither).

Held to the real provider by tests/engine/test_pulumi_up.py: each edit's `make render-diff`
replaces the kinds the real `pulumi preview --diff` replaces, for the same fields
(test_each_exposure_deploys_serves_and_takes_each_edit_as_previewed). Upstream's own cases
(diff_test.go, TestPatchToDiff) are ported in tests/render/test_pulumi_kubernetes_replacement.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from components.inputs.plain import is_list, is_mapping
from components.objects import workload

_LABEL_SELECTOR = (
    "matchExpressions", "matchExpressions.key", "matchExpressions.operator",
    "matchExpressions.values", "matchLabels",
)  # fmt: skip
_CONTAINER = (
    "args", "command", "env", "env.value", "image", "imagePullPolicy", "lifecycle",
    "livenessProbe", "ports", "readinessProbe", "resources", "securityContext", "stdin",
    "stdinOnce", "terminationMessagePath", "terminationMessagePolicy", "tty", "volumeDevices",
    "volumeMounts", "workingDir",
)  # fmt: skip


def _selector(prefix: str) -> tuple[str, ...]:
    return (prefix, *(f"{prefix}.{p}" for p in _LABEL_SELECTOR))


def _containers(*prefixes: str) -> tuple[str, ...]:
    return tuple(f"{prefix}.{p}" for prefix in prefixes for p in _CONTAINER)


_POD = (
    *(f".spec.{p}" for p in (
        "affinity", "automountServiceAccountToken", "dnsConfig", "dnsPolicy", "enableServiceLinks",
        "hostAliases", "hostIPC", "hostNetwork", "hostPID", "hostname", "imagePullSecrets",
        "nodeName", "nodeSelector", "overhead", "preemptionPolicy", "priority",
        "priorityClassName", "readinessGates", "restartPolicy", "runtimeClassName",
        "schedulerName", "securityContext", "serviceAccount", "serviceAccountName",
        "shareProcessNamespace", "subdomain", "terminationGracePeriodSeconds", "volumes",
    )),
    *_containers(".spec.containers[*]", ".spec.initContainers[*]"),
)  # fmt: skip
_VOLUME_SOURCES = (
    "awsElasticBlockStore", "azureDisk", "azureFile", "cephfs", "cinder", "csi", "fc",
    "flexVolume", "flocker", "gcePersistentDisk", "glusterfs", "hostPath", "iscsi", "local", "nfs",
    "photonPersistentDisk", "portworxVolume", "quobyte", "rbd", "scaleIO", "storageos",
    "vsphereVolume",
)  # fmt: skip

FORCE_NEW: Mapping[tuple[str, str], tuple[str, ...]] = {
    ("apps/v1", "Deployment"): _selector(".spec.selector"),
    ("apps/v1", "DaemonSet"): _selector(".spec.selector"),
    ("apps/v1", "StatefulSet"): (
        ".spec.podManagementPolicy",
        ".spec.revisionHistoryLimit",
        ".spec.serviceName",
        ".spec.volumeClaimTemplates",
        *_selector(".spec.selector"),
    ),
    ("v1", "PersistentVolume"): tuple(f".spec.{s}" for s in _VOLUME_SOURCES),
    ("v1", "PersistentVolumeClaim"): (
        ".spec.accessModes",
        ".spec.storageClassName",
        ".spec.volumeName",
        *_selector(".spec.selector"),
    ),
    ("v1", "Pod"): _POD,
    ("v1", "ResourceQuota"): (".spec.scopes",),
    ("v1", "Service"): (".spec.clusterIP",),
    ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"): (".roleRef",),
    ("rbac.authorization.k8s.io/v1", "RoleBinding"): (".roleRef",),
    ("storage.k8s.io/v1", "StorageClass"): (".parameters", ".provisioner"),
    ("batch/v1", "Job"): (
        ".spec.completions",
        ".spec.parallelism",
        ".spec.template",
        *_selector(".spec.selector"),
    ),
}  # fmt: skip
# Beside the provider's rules, the component's own: it asks the engine to replace a claim whose
# fixed size changes (the resource option replaceOnChanges, components/objects/workload.py).
REPLACE_ON_CHANGES: Mapping[tuple[str, str], tuple[str, ...]] = {
    ("v1", "PersistentVolumeClaim"): (f".metadata.annotations.{workload.FIXED_SIZE}",),
}
# Immutable by default: a change of data is a new object.
_DATA = {"Secret": (".type", ".stringData", ".data"), "ConfigMap": (".binaryData", ".data")}
_IDENTITY = (".metadata.name", ".metadata.namespace")


def force_new_paths(obj: Mapping[str, Any]) -> tuple[str, ...]:
    """The paths of `obj` whose change replaces it."""
    api_version, kind = obj.get("apiVersion", ""), obj.get("kind", "")
    if api_version == "v1" and kind in _DATA:
        return (*_IDENTITY, *_DATA[kind])
    own = REPLACE_ON_CHANGES.get((api_version, kind), ())
    return (*_IDENTITY, *FORCE_NEW.get((api_version, kind), ()), *own)


def values_at(obj: Any, path: str) -> list[Any]:
    """The values at `path` (".spec.containers[*].image"), in order; [] where there is none."""
    found = [obj]
    for step in path.lstrip(".").split("."):
        key, every = (step[:-3], True) if step.endswith("[*]") else (step, False)
        found = [item[key] for item in found if is_mapping(item) and key in item]
        if every:
            found = [element for items in found if is_list(items) for element in items]
    return found


def force_new_values(obj: Mapping[str, Any]) -> list[list[Any]]:
    """What must stay the same for `obj` to be updated in place."""
    return [values_at(obj, path) for path in force_new_paths(obj)]


def replaced_by(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """The force-new paths whose values differ between two versions of an object."""
    return [p for p in force_new_paths(new) if values_at(old, p) != values_at(new, p)]
