"""The cache's pods: labels, the Deployment spec and the cache volume's claim, as plain data."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ..inputs.model import Exposure, Storage
from ..inputs.object_storage import CREDENTIALS_DIR, GCS_KEY_FILE
from ..inputs.settings import Settings
from . import registry_config as rc
from .exposure import METRICS_PORT_NAME, PORT_NAME

Name = object
"""An object's name in a spec: a str, or an Output of one (an auto-named object's), placed as
it is so that a preview still shows the rest of the spec."""

# A label value: at most 63 characters, alphanumeric at both ends (an image tag may be longer).
_LABEL_VALUE = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$")
CONTAINER = "dtr-cache"
CERTS_VOLUME = "dtr-certs"
CONFIG_VOLUME = "dtr-cache-config"
DATA_VOLUME = "cache-data"
CREDENTIALS_VOLUME = "storage-credentials"
# The user and group the cache runs as. Any non-root one works: it reads its config and
# certificates (mounted world-readable) and writes only its storage (the emptyDir, or a claim
# that fsGroup makes its group's), so the pod meets Pod Security `restricted`.
RUN_AS = 65532
# Pod Security Admission's namespace label (k8s.io/pod-security-admission api/constants.go).
ENFORCE = "pod-security.kubernetes.io/enforce"


def selector_labels(name: str, adopted: bool = False) -> dict[str, str]:
    """The labels that pick the cache's pods; never changed after creation (selectors are
    immutable): a Deployment `adopted` from MSR's manual procedure keeps its `app: <name>`."""
    if adopted:
        return {"app": name}
    return {"app.kubernetes.io/name": "msr-cache", "app.kubernetes.io/instance": name}


def labels(name: str, image: str, adopted: bool = False) -> dict[str, str]:
    """The recommended `app.kubernetes.io/*` labels on every object of the cache (and the
    procedure's `app` label on those adopted from it)."""
    tag = image.rsplit("@", 1)[0].rsplit(":", 1)
    version = tag[1] if len(tag) == 2 and _LABEL_VALUE.match(tag[1]) else None
    return {
        **selector_labels(name, adopted),
        **selector_labels(name),
        "app.kubernetes.io/component": "content-cache",
        "app.kubernetes.io/part-of": "mirantis-secure-registry",
        "app.kubernetes.io/managed-by": "pulumi",
        **({"app.kubernetes.io/version": version} if version else {}),
    }


def namespace_labels(settings: Settings) -> dict[str, str]:
    """The labels of a namespace the cache makes: its own, and the Pod Security level it
    enforces. The cache's pods meet `restricted`, except that a host port is allowed by no level
    but `privileged` (the baseline policy forbids hostPort): with exposure hostPort the
    namespace must allow it, or the ReplicaSet can create no pod."""
    level = "privileged" if settings.exposure == Exposure.HOST_PORT else "restricted"
    return {**labels(settings.name, settings.image, settings.adopt_existing), ENFORCE: level}


def _probes(metrics: bool) -> dict[str, dict[str, Any]]:
    # With the debug server on, distribution's own health endpoint; else an unauthenticated
    # GET /v2/, which answers 200 on a cache once it serves TLS.
    check: dict[str, Any] = (
        {"path": rc.HEALTH_PATH, "port": METRICS_PORT_NAME, "scheme": "HTTP"}
        if metrics
        else {"path": "/v2/", "port": PORT_NAME, "scheme": "HTTPS"}
    )
    probe = {"httpGet": check, "timeoutSeconds": 5}
    return {
        "readinessProbe": {**probe, "periodSeconds": 5, "failureThreshold": 3},
        "livenessProbe": {
            **probe,
            "periodSeconds": 10,
            "failureThreshold": 6,
            "initialDelaySeconds": 10,
        },
    }


def _certs_volume(settings: Settings, secret: Name, tls_secret: Name | None) -> dict[str, Any]:
    # Read-only for whichever user the image runs as; only this pod mounts it.
    if tls_secret is None:
        return {"name": CERTS_VOLUME, "secret": {"secretName": secret, "defaultMode": 0o444}}
    # cert-manager writes tls.crt/tls.key into its own Secret: project them under the names
    # config.yaml reads, beside the upstream CA from the cache's Secret.
    sources: list[dict[str, Any]] = [
        {
            "secret": {
                "name": tls_secret,
                "items": [
                    {"key": "tls.crt", "path": rc.CERT_FILE},
                    {"key": "tls.key", "path": rc.KEY_FILE},
                ],
            }
        }
    ]
    if settings.trusts_upstream_ca:
        sources.append(
            {
                "secret": {
                    "name": secret,
                    "items": [{"key": rc.UPSTREAM_CA_FILE, "path": rc.UPSTREAM_CA_FILE}],
                }
            }
        )
    return {"name": CERTS_VOLUME, "projected": {"sources": sources, "defaultMode": 0o444}}


def deployment_spec(
    settings: Settings,
    *,
    config_map: Name,
    secret: Name,
    claim: Name | None,
    tls_secret: Name | None = None,
    storage_secret: Name | None = None,
    env_secret: Name | None = None,
) -> dict[str, Any]:
    """The Deployment's spec: the seed's container made safe, probed and bounded.

    The names are `Name`s. `tls_secret` is cert-manager's Secret, `storage_secret` the one
    holding object storage credentials, `env_secret` the one holding the extraEnv values given
    as Outputs (`env_secret_keys`).
    """
    mounts, volumes = _volumes(settings, config_map, secret, claim, tls_secret, storage_secret)
    env = _env(settings, secret, storage_secret, env_secret)
    container = _container(settings, env, mounts)
    metadata: dict[str, Any] = {
        "labels": labels(settings.name, settings.image, settings.adopt_existing)
    }
    if settings.pod_annotations:
        metadata["annotations"] = dict(settings.pod_annotations)
    return {
        "replicas": settings.replicas,
        "selector": {"matchLabels": selector_labels(settings.name, settings.adopt_existing)},
        "strategy": _strategy(settings),
        "template": {"metadata": metadata, "spec": _pod(settings, container, volumes)},
    }


def env_secret_keys(settings: Settings) -> dict[str, str]:
    """The extraEnv variables whose values are Outputs, each to its key in the env Secret (its
    own name, which is a valid Secret key). Such a value may be a secret (the stack program
    passes an encrypted extraEnv so) and its text cannot be known here: it never goes into the
    Deployment, which the state, a preview's diff and the API server show in the clear."""
    return {
        name: name
        for name, value in sorted(settings.extra_env.items())
        if not isinstance(value, str)
    }


def _env(
    settings: Settings,
    secret: Name,
    storage_secret: Name | None,
    env_secret: Name | None,
) -> list[dict[str, Any]]:
    """The http secret and storage credentials from their Secrets, then extraEnv: its plain
    values as they are, the others from the env Secret."""
    storage = settings.object_storage
    kept = env_secret_keys(settings)
    assert env_secret is not None or not kept, "extraEnv Outputs need their Secret"
    return [
        {
            "name": "REGISTRY_HTTP_SECRET",
            "valueFrom": {"secretKeyRef": {"name": secret, "key": rc.HTTP_SECRET_KEY}},
        },
        *(storage.environment(storage_secret) if storage and storage_secret else []),
        *(
            {"name": name, "valueFrom": {"secretKeyRef": {"name": env_secret, "key": kept[name]}}}
            if name in kept
            else {"name": name, "value": value}
            for name, value in sorted(settings.extra_env.items())
        ),
    ]


def _volumes(
    settings: Settings,
    config_map: Name,
    secret: Name,
    claim: Name | None,
    tls_secret: Name | None,
    storage_secret: Name | None,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(mounts, volumes): certificates, config, and the blobs' volume or a key file."""
    storage = settings.object_storage
    mounts = [
        {"name": CERTS_VOLUME, "mountPath": rc.CERTS_DIR, "readOnly": True},
        {"name": CONFIG_VOLUME, "mountPath": rc.CONFIG_DIR, "readOnly": True},
    ]
    volumes = [
        _certs_volume(settings, secret, tls_secret),
        {"name": CONFIG_VOLUME, "configMap": {"name": config_map, "defaultMode": 0o444}},
    ]
    if storage is None:  # blobs on the pod's volume: a claim, or an emptyDir
        mounts.append({"name": DATA_VOLUME, "mountPath": rc.DATA_DIR})
        volumes.append(
            {"name": DATA_VOLUME, "persistentVolumeClaim": {"claimName": claim}}
            if claim
            else {"name": DATA_VOLUME, "emptyDir": {}}
        )
    elif storage.mounts_key_file:
        mounts.append({"name": CREDENTIALS_VOLUME, "mountPath": CREDENTIALS_DIR, "readOnly": True})
        volumes.append(
            {
                "name": CREDENTIALS_VOLUME,
                "secret": {
                    "secretName": storage_secret,
                    "items": [{"key": GCS_KEY_FILE, "path": GCS_KEY_FILE}],
                    "defaultMode": 0o444,
                },
            }
        )
    return mounts, volumes


def _container(
    settings: Settings, env: list[dict[str, Any]], mounts: list[dict[str, Any]]
) -> dict[str, Any]:
    """The cache container, as the seed runs it, without privileges."""
    ports = [settings.mode.container_port(settings.port)]
    if settings.metrics:
        ports.append(
            {"name": METRICS_PORT_NAME, "containerPort": rc.METRICS_PORT, "protocol": "TCP"}
        )
    return {
        "name": CONTAINER,
        "image": settings.image,
        "imagePullPolicy": "IfNotPresent",
        "command": ["bin/sh"],
        "args": ["start.sh", f"{rc.CONFIG_DIR}/{rc.CONFIG_FILE}"],
        "ports": ports,
        "env": env,
        "volumeMounts": mounts,
        **_probes(settings.metrics),
        "resources": {section: dict(amounts) for section, amounts in settings.resources.items()},
        "securityContext": {
            "allowPrivilegeEscalation": False,
            # The cache listens above 1024 and touches only its volumes: it needs no capability.
            "capabilities": {"drop": ["ALL"]},
            "seccompProfile": {"type": "RuntimeDefault"},
        },
    }


def _pod(
    settings: Settings, container: dict[str, Any], volumes: list[dict[str, Any]]
) -> dict[str, Any]:
    """The pod spec: the container, its volumes, its account, and where its replicas may run."""
    pod: dict[str, Any] = {
        # The cache never calls the Kubernetes API: give it no token to steal (whatever its
        # account, the namespace's default or the one serviceAccountName names).
        "automountServiceAccountToken": False,
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": RUN_AS,
            "runAsGroup": RUN_AS,
            "fsGroup": RUN_AS,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "containers": [container],
        "volumes": volumes,
    }
    if settings.replicas > 1:
        # One replica per node, as MSR's HA setup asks: a node's loss takes one replica only.
        pod["topologySpreadConstraints"] = [
            {
                "maxSkew": 1,
                "topologyKey": "kubernetes.io/hostname",
                "whenUnsatisfiable": "DoNotSchedule",
                "labelSelector": {
                    "matchLabels": selector_labels(settings.name, settings.adopt_existing)
                },
            }
        ]
    if settings.node_selector:
        pod["nodeSelector"] = dict(settings.node_selector)
    if settings.tolerations:
        pod["tolerations"] = [dict(t) for t in settings.tolerations]
    if settings.affinity:
        pod["affinity"] = dict(settings.affinity)
    if settings.priority_class_name:
        pod["priorityClassName"] = settings.priority_class_name
    if settings.service_account_name:
        pod["serviceAccountName"] = settings.service_account_name
    if settings.image_pull_secrets:
        pod["imagePullSecrets"] = [{"name": name} for name in settings.image_pull_secrets]
    return pod


def disruption_budget_spec(settings: Settings) -> dict[str, Any]:
    """A PodDisruptionBudget keeping all but one replica up through drains and upgrades."""
    return {
        "maxUnavailable": 1,
        "selector": {"matchLabels": selector_labels(settings.name, settings.adopt_existing)},
    }


def _strategy(settings: Settings) -> dict[str, Any]:
    storage = settings.storage
    # A single-node claim can't be mounted by the new pod while the old one holds it elsewhere:
    # stop the old pod first.
    if storage is not None and storage.single_node:
        return {"type": "Recreate"}
    # A surge pod could not bind the host port where a replica runs, and with maxUnavailable 0
    # the rollout would wait for it forever: replace one replica at a time instead.
    if settings.exposure is Exposure.HOST_PORT:
        return {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}}
    return {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}}


# A claim grows in place only where its StorageClass allows volume expansion; elsewhere the API
# server refuses a larger request (admission plugin PersistentVolumeClaimResize) at `pulumi up`,
# which pulumi-kubernetes 4.25's preview does not show (it passes over a Forbidden dry run). So
# such a claim carries its size in this annotation, and the component asks the engine to replace
# it when the annotation changes (FIXED_SIZE_PATH, replaceOnChanges), as the preview then says.
# Whether a class allows expansion is read from the cluster, and the cluster's default class
# cannot be named: hence an annotation, which an Output can fill, rather than a resource option
# decided in advance.
FIXED_SIZE = "msr-cache/fixed-storage-size"
FIXED_SIZE_PATH = f'metadata.annotations["{FIXED_SIZE}"]'


# pulumi-kubernetes 4.25 awaits a claim of a WaitForFirstConsumer class until it is Pending, after
# an update too, when it is Bound: a larger size waited five minutes, then failed (fixed in 4.27,
# pulumi-kubernetes#4181). The claim is not awaited: the Deployment's await (a Ready pod, which
# needs the claim bound) covers what the claim's would.
SKIP_AWAIT = "pulumi.com/skipAwait"


def claim_annotations(
    storage: Storage, expands: bool | None, every: Mapping[str, str]
) -> dict[str, str]:
    """The claim's annotations: `every` object's, no await of it, and its size, unless its
    StorageClass (when one is named, read from the cluster) allows volume expansion."""
    return {**every, SKIP_AWAIT: "true", **({} if expands else {FIXED_SIZE: storage.size})}


def claim_spec(storage: Storage) -> dict[str, Any]:
    """The PersistentVolumeClaim for /var/lib/registry."""
    spec: dict[str, Any] = {
        "accessModes": [storage.access_mode.value],
        "resources": {"requests": {"storage": storage.size}},
    }
    if storage.storage_class:
        spec["storageClassName"] = storage.storage_class
    return spec
