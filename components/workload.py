"""The cache's pods: labels, the Deployment spec and the cache volume's claim, as plain data."""

from __future__ import annotations

import re
from typing import Any

from pulumi import Input

from . import registry_config as rc
from .exposure import PORT_NAME, container_port
from .settings import Settings, Storage

# A label value: at most 63 characters, alphanumeric at both ends (an image tag may be longer).
_LABEL_VALUE = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$")
CONTAINER = "dtr-cache"
CERTS_VOLUME = "dtr-certs"
CONFIG_VOLUME = "dtr-cache-config"
DATA_VOLUME = "cache-data"


def selector_labels(name: str) -> dict[str, str]:
    """The labels that pick the cache's pods; never changed after creation (selectors are immutable)."""
    return {"app.kubernetes.io/name": "msr-cache", "app.kubernetes.io/instance": name}


def labels(name: str, image: str) -> dict[str, str]:
    """The recommended `app.kubernetes.io/*` labels on every object of the cache."""
    tag = image.rsplit("@", 1)[0].rsplit(":", 1)
    version = tag[1] if len(tag) == 2 and _LABEL_VALUE.match(tag[1]) else None
    return {
        **selector_labels(name),
        "app.kubernetes.io/component": "content-cache",
        "app.kubernetes.io/part-of": "mirantis-secure-registry",
        "app.kubernetes.io/managed-by": "pulumi",
        **({"app.kubernetes.io/version": version} if version else {}),
    }


def _probe(period_seconds: int, failure_threshold: int) -> dict[str, Any]:
    # An unauthenticated GET /v2/ answers 200 on a cache once it serves TLS.
    return {
        "httpGet": {"path": "/v2/", "port": PORT_NAME, "scheme": "HTTPS"},
        "periodSeconds": period_seconds,
        "timeoutSeconds": 5,
        "failureThreshold": failure_threshold,
    }


def deployment_spec(
    settings: Settings,
    *,
    config_map: Input[str],
    secret: Input[str],
    claim: Input[str] | None,
) -> dict[str, Any]:
    """The Deployment's spec: the seed's container made safe, probed and bounded.

    The ConfigMap, Secret and claim names may be Outputs (auto-named objects): they sit in the
    spec as they are, so a preview still shows everything else.
    """
    env = [
        {
            "name": "REGISTRY_HTTP_SECRET",
            "valueFrom": {"secretKeyRef": {"name": secret, "key": rc.HTTP_SECRET_KEY}},
        }
    ]
    container = {
        "name": CONTAINER,
        "image": settings.image,
        "imagePullPolicy": "IfNotPresent",
        "command": ["bin/sh"],
        "args": ["start.sh", f"{rc.CONFIG_DIR}/{rc.CONFIG_FILE}"],
        "ports": [container_port(settings.exposure, settings.port)],
        "env": env,
        "volumeMounts": [
            {"name": CERTS_VOLUME, "mountPath": rc.CERTS_DIR, "readOnly": True},
            {"name": CONFIG_VOLUME, "mountPath": rc.CONFIG_DIR, "readOnly": True},
            {"name": DATA_VOLUME, "mountPath": rc.DATA_DIR},
        ],
        "readinessProbe": _probe(period_seconds=5, failure_threshold=3),
        "livenessProbe": {
            **_probe(period_seconds=10, failure_threshold=6),
            "initialDelaySeconds": 10,
        },
        "resources": {section: dict(amounts) for section, amounts in settings.resources.items()},
        "securityContext": {
            "allowPrivilegeEscalation": False,
            # The cache listens above 1024 and touches only its volumes: it needs no capability.
            "capabilities": {"drop": ["ALL"]},
            "seccompProfile": {"type": "RuntimeDefault"},
        },
    }
    data_volume: dict[str, Any] = (
        {"name": DATA_VOLUME, "persistentVolumeClaim": {"claimName": claim}}
        if claim
        else {"name": DATA_VOLUME, "emptyDir": {}}
    )
    pod_labels = labels(settings.name, settings.image)
    return {
        "replicas": settings.replicas,
        "selector": {"matchLabels": selector_labels(settings.name)},
        "strategy": _strategy(settings.storage),
        "template": {
            "metadata": {"labels": pod_labels},
            "spec": {
                # The cache never calls the Kubernetes API: give it no token to steal.
                "automountServiceAccountToken": False,
                "securityContext": {"seccompProfile": {"type": "RuntimeDefault"}},
                "containers": [container],
                "volumes": [
                    # Read-only for whichever user the image runs as; only this pod mounts it.
                    {"name": CERTS_VOLUME, "secret": {"secretName": secret, "defaultMode": 0o444}},
                    {
                        "name": CONFIG_VOLUME,
                        "configMap": {"name": config_map, "defaultMode": 0o444},
                    },
                    data_volume,
                ],
            },
        },
    }


def _strategy(storage: Storage | None) -> dict[str, Any]:
    # A single-node claim can't be mounted by the new pod while the old one holds it elsewhere:
    # stop the old pod first.
    if storage is not None and storage.single_node:
        return {"type": "Recreate"}
    return {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}}


def claim_spec(storage: Storage) -> dict[str, Any]:
    """The PersistentVolumeClaim for /var/lib/registry."""
    spec: dict[str, Any] = {
        "accessModes": [storage.access_mode.value],
        "resources": {"requests": {"storage": storage.size}},
    }
    if storage.storage_class:
        spec["storageClassName"] = storage.storage_class
    return spec
