"""Each object's metadata: its name, labels and annotations, from the settings and the plan.

An object is known by its role, which also ends its Pulumi resource name (`<name>-<role>`).
Most are named after the cache; the ConfigMap and the Secrets, and the claim, are left to the
provider's auto-name, so that a change of their data gives a new name, which the Deployment
follows, rolling its pods.
"""

from __future__ import annotations

from typing import Any

from ..inputs.settings import Settings
from . import exposure, workload
from .plan import Plan

AUTO_NAMED = frozenset({"config", "certs", "storage", "env", "data"})
MONITORING_ROLES = frozenset({"service-monitor", "alerts"})
# The label kube-prometheus-stack's Grafana sidecar loads dashboards by (its chart's
# sidecar.dashboards.label and labelValue defaults).
DASHBOARD_LABELS = {"grafana_dashboard": "1"}


def object_metadata(
    settings: Settings,
    plan: Plan,
    role: str,
    namespace: Any,
    annotations: Any = None,
) -> dict[str, Any]:
    """The metadata of the cache's object `role` (or of the namespace it makes). The namespace
    may be an Output (the made Namespace's name, so that the object waits for it) and sits in
    the metadata as it is, as do `annotations`, given when only the deployment knows them (an
    Output of the claim's)."""
    labels = workload.labels(settings.name, settings.image, settings.adopt_existing)
    meta: dict[str, Any] = {"namespace": namespace, "labels": labels}
    if role == "namespace":
        meta = {"name": settings.namespace, "labels": workload.namespace_labels(settings)}
    elif role == "metrics-service":  # beside the cache's Service, told apart by its labels
        meta.update(name=f"{settings.name}-metrics", labels={**labels, **exposure.METRICS_LABELS})
    elif role == "dashboard":  # perhaps in Grafana's namespace, beside other caches' dashboards
        meta.update(
            namespace=plan.dashboard_namespace,
            name=f"msr-cache-{settings.namespace}-{settings.name}",
            labels={**labels, **DASHBOARD_LABELS},
        )
    elif role not in AUTO_NAMED:
        meta["name"] = settings.name
    if role in MONITORING_ROLES:  # for the Prometheus Operator's selectors
        meta["labels"] = {**labels, **(settings.monitoring_labels or {})}
    # Beside the plan's annotations of every object, the object's own.
    own = {"ingress": exposure.INGRESS_ANNOTATIONS, "deployment": plan.deployment_annotations}
    if annotations is not None:
        meta["annotations"] = annotations
    elif every := {**plan.annotations, **own.get(role, {})}:
        meta["annotations"] = every
    return meta
