"""The msr-cache policy pack's policies, as the list `POLICIES`.

Each policy sees resources as the Pulumi engine hands them to a policy pack: `resource_type` like
`kubernetes:apps/v1:Deployment` and `props` holding the Kubernetes object's fields in camelCase
(`props["spec"]["template"]["spec"]["containers"]`). The engine wraps `props` in read-only
Mapping/Sequence proxies (not dict/list) that raise `UnknownValueError` on a value not known
during preview: the helpers below test for `Mapping`/`Sequence`, and the stack policies treat an
unknown value as "can't tell" where a fallback exists.

Every message says what is wrong, on which object, and how to fix it. No message ever repeats a
value that may be secret.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import yaml
from pulumi_policy import (
    EnforcementLevel,
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UnknownValueError

CONFIG_MAP = "kubernetes:core/v1:ConfigMap"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
INGRESS = "kubernetes:networking.k8s.io/v1:Ingress"
TLS_ROUTE = "kubernetes:gateway.networking.k8s.io/v1:TLSRoute"
# What routes clients in through an in-cluster proxy: an Ingress, or a Gateway API TLSRoute.
ROUTES = {INGRESS, TLS_ROUTE}
PVC = "kubernetes:core/v1:PersistentVolumeClaim"
SERVICE = "kubernetes:core/v1:Service"
POD = "kubernetes:core/v1:Pod"
CRON_JOB = "kubernetes:batch/v1:CronJob"
# Workloads whose pod template is at spec.template.spec.
TEMPLATED = {
    DEPLOYMENT,
    "kubernetes:apps/v1:StatefulSet",
    "kubernetes:apps/v1:DaemonSet",
    "kubernetes:apps/v1:ReplicaSet",
    "kubernetes:batch/v1:Job",
}
WORKLOADS = {*TEMPLATED, POD, CRON_JOB}

SINGLE_NODE_MODES = {"ReadWriteOnce", "ReadWriteOncePod"}
EXPOSED_TYPES = {"LoadBalancer", "NodePort"}

# A key naming a secret value (`http-secret`, `s3SecretKey`, `password`, `api_token`), but not one
# naming where a secret is kept (`secretName`, `passwordFile`, `tokenPath`).
_SECRET_NAME = re.compile(r"secret|password|token", re.IGNORECASE)
_REFERENCE_SUFFIX = re.compile(r"(file|path|name|ref|dir|env)$", re.IGNORECASE)
_PRIVATE_KEY = "PRIVATE KEY-----"
_DIGEST = re.compile(r"@[A-Za-z0-9_+.-]+:[0-9a-fA-F]{32,}$")


# --- reading props ------------------------------------------------------------------------------


def _map(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _seq(value: Any) -> Sequence[Any]:
    return value if isinstance(value, Sequence) and not isinstance(value, str) else ()


def _get(props: Any, *path: str) -> Any:
    """props[path[0]][path[1]]..., or None where a step is missing."""
    for key in path:
        props = _map(props).get(key)
        if props is None:
            return None
    return props


def _known(props: Any, *path: str) -> Any:
    """Like `_get`, but None also where a value is unknown during preview."""
    try:
        return _get(props, *path)
    except UnknownValueError:
        return None


def _object_name(props: Mapping[str, Any], kind: str) -> str:
    namespace = _known(props, "metadata", "namespace")
    name = _known(props, "metadata", "name") or "(auto-named)"
    return f"{kind} {namespace}/{name}" if namespace else f"{kind} {name}"


def _kind(resource_type: str) -> str:
    return resource_type.rsplit(":", 1)[-1]


# --- the cache serves TLS -----------------------------------------------------------------------


def _registry_configs(props: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """(data key, parsed config) of each YAML value of a ConfigMap that is an MSR cache's
    registry config: a distribution config with MSR's `downstream` registry middleware."""
    for key, text in _map(props.get("data")).items():
        if not key.endswith((".yaml", ".yml")) or not isinstance(text, str):
            continue
        config = _parse(text)
        middleware = _seq(_get(config, "middleware", "registry"))
        if any(_map(m).get("name") == "downstream" for m in middleware):
            yield key, config


def _parse(text: str) -> Mapping[str, Any]:
    try:
        parsed = yaml.safe_load(text)
    except yaml.YAMLError:
        return {}
    return parsed if isinstance(parsed, Mapping) else {}


def cache_serves_tls(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type != CONFIG_MAP:
        return
    what = _object_name(args.props, "ConfigMap")
    for key, config in _registry_configs(args.props):
        tls = _map(_get(config, "http", "tls"))
        missing = [field for field in ("certificate", "key") if not tls.get(field)]
        if missing:
            report_violation(
                f"{what}: {key} is an MSR cache config without TLS (http.tls."
                f"{' and http.tls.'.join(missing)} not set). Docker and containerd pull layers "
                "from the cache over HTTPS and MSR redirects them to it, so a plain-HTTP cache "
                "breaks every pull. Set http.tls.certificate and http.tls.key to the PEM files "
                "mounted from a Secret (MsrCache mounts them as /certs/cache.cert.pem and "
                "/certs/cache.key.pem).",
                None,
            )
        host = _get(config, "http", "host")
        if isinstance(host, str) and not host.startswith("https://"):
            report_violation(
                f"{what}: {key} sets http.host to {host!r}; the cache's URL must be "
                "https://<host>[:port] because it serves TLS and clients reach it by that URL. "
                "Set http.host to the https:// URL clients use.",
                None,
            )


# --- no secret in a ConfigMap -------------------------------------------------------------------


def _names_a_secret(key: Any) -> bool:
    return (
        isinstance(key, str)
        and bool(_SECRET_NAME.search(key))
        and not _REFERENCE_SUFFIX.search(key.replace("-", "").replace("_", ""))
    )


def _secret_fields(tree: Any, path: str = "") -> Iterator[str]:
    """The dotted paths of non-empty scalar values under keys that name a secret."""
    if isinstance(tree, Mapping):
        for key, value in tree.items():
            here = f"{path}.{key}" if path else str(key)
            if (
                _names_a_secret(key)
                and isinstance(value, str | int | float)
                and not isinstance(value, bool)
                and value != ""
            ):
                yield here
            else:
                yield from _secret_fields(value, here)
    elif isinstance(tree, Sequence) and not isinstance(tree, str):
        for i, value in enumerate(tree):
            yield from _secret_fields(value, f"{path}[{i}]")


def _decoded(text: Any) -> str:
    if not isinstance(text, str):
        return ""
    try:
        return base64.b64decode(text, validate=True).decode("utf-8", errors="replace")
    except (binascii.Error, ValueError):
        return ""


def no_secret_in_config_map(
    args: ResourceValidationArgs, report_violation: ReportViolation
) -> None:
    if args.resource_type != CONFIG_MAP:
        return
    what = _object_name(args.props, "ConfigMap")
    move = (
        "ConfigMaps are readable by anyone who may read the namespace and are shown in plain "
        "text in previews and state. Put the value in a Secret and pass it to the container "
        "from there (an env var with valueFrom.secretKeyRef, or a Secret volume)."
    )
    values = {
        **{k: v for k, v in _map(args.props.get("data")).items()},
        **{k: _decoded(v) for k, v in _map(args.props.get("binaryData")).items()},
    }
    for key, value in values.items():
        if not isinstance(value, str):
            continue
        if _PRIVATE_KEY in value:
            report_violation(f"{what}: data key {key!r} holds a PEM private key. {move}", None)
        if _names_a_secret(key) and value.strip():
            report_violation(
                f"{what}: data key {key!r} is named like a secret and has a value. {move}",
                None,
            )
        parsed = _parse(value) if key.endswith((".yaml", ".yml", ".json")) else {}
        for field in _secret_fields(parsed):
            if field == "http.secret":
                report_violation(
                    f"{what}: {key} sets http.secret, the key that signs the registry's upload "
                    f"state. {move} Distribution reads it from the REGISTRY_HTTP_SECRET "
                    "environment variable instead of http.secret (MsrCache does this).",
                    None,
                )
            else:
                report_violation(
                    f"{what}: {key} sets {field}, named like a secret. {move} Distribution "
                    "reads any key from an environment variable REGISTRY_<PATH> (e.g. "
                    "REGISTRY_STORAGE_S3_SECRETKEY), so the file can leave it out.",
                    None,
                )


# --- containers ---------------------------------------------------------------------------------


def _pod_spec(args: ResourceValidationArgs) -> Mapping[str, Any] | None:
    if args.resource_type == POD:
        return _map(args.props.get("spec"))
    if args.resource_type in TEMPLATED:
        return _map(_get(args.props, "spec", "template", "spec"))
    if args.resource_type == CRON_JOB:
        return _map(_get(args.props, "spec", "jobTemplate", "spec", "template", "spec"))
    return None


def _containers(
    args: ResourceValidationArgs, *, init: bool = True
) -> Iterator[tuple[str, Mapping[str, Any], Mapping[str, Any]]]:
    """(description, container, pod spec) of each container of a workload."""
    pod = _pod_spec(args)
    if pod is None:
        return
    what = _object_name(args.props, _kind(args.resource_type))
    fields = ("containers", "initContainers") if init else ("containers",)
    for field in fields:
        for container in _seq(pod.get(field)):
            container = _map(container)
            label = "init container" if field == "initContainers" else "container"
            yield f"{what}, {label} {container.get('name')!r}", container, pod


def seccomp_runtime_default(
    args: ResourceValidationArgs, report_violation: ReportViolation
) -> None:
    for what, container, pod in _containers(args):
        # A container's own seccompProfile overrides the pod's.
        profile = _get(container, "securityContext", "seccompProfile", "type") or _get(
            pod, "securityContext", "seccompProfile", "type"
        )
        if profile != "RuntimeDefault":
            got = f"seccompProfile {profile}" if profile else "no seccompProfile"
            report_violation(
                f"{what} runs with {got}, so every system call is allowed. Set "
                "securityContext.seccompProfile.type: RuntimeDefault on the pod (or the "
                "container); the old seccomp.security.alpha.kubernetes.io annotation is ignored "
                "since Kubernetes 1.25.",
                None,
            )


def no_privilege_escalation(
    args: ResourceValidationArgs, report_violation: ReportViolation
) -> None:
    for what, container, _pod in _containers(args):
        context = _map(container.get("securityContext"))
        if context.get("privileged") is True:
            report_violation(
                f"{what} is privileged: it has every capability and the host's devices. Remove "
                "securityContext.privileged and set securityContext.allowPrivilegeEscalation: "
                "false.",
                None,
            )
        elif context.get("allowPrivilegeEscalation") is not False:
            got = context.get("allowPrivilegeEscalation")
            state = "is true" if got is True else "is not set (Kubernetes then allows it)"
            report_violation(
                f"{what}: securityContext.allowPrivilegeEscalation {state}, so a setuid binary "
                "can gain more privileges than the container started with. Set "
                "securityContext.allowPrivilegeEscalation: false.",
                None,
            )


def probes(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    # Init containers run to completion before the pod starts: they take no probes.
    for what, container, _pod in _containers(args, init=False):
        missing = [p for p in ("readinessProbe", "livenessProbe") if not container.get(p)]
        if missing:
            report_violation(
                f"{what} has no {' and no '.join(missing)}: without a readiness probe traffic "
                "reaches a pod before it serves, and a rollout can't tell a broken pod from a "
                "good one; without a liveness probe a hung process is never restarted. Add "
                "both (for the cache: an HTTPS GET of /v2/ on the container's port).",
                None,
            )


def memory_limit(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    for what, container, _pod in _containers(args):
        if not _get(container, "resources", "limits", "memory"):
            report_violation(
                f"{what} has no memory limit: a leak or a burst of pulls can take the node's "
                "memory from every other pod. Set resources.limits.memory (e.g. 1Gi; for a "
                "cache stack, the msr-cache:resources config key).",
                None,
            )


# --- images -------------------------------------------------------------------------------------


def _image_parts(image: str) -> tuple[str | None, str | None]:
    """(tag, digest) of an image reference; the registry's port is not a tag."""
    name, _, digest = image.partition("@")
    last = name.rsplit("/", 1)[-1]
    tag = last.rsplit(":", 1)[1] if ":" in last else None
    return tag or None, (f"@{digest}" if digest else None)


def image_pinned(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    for what, container, _pod in _containers(args):
        image = container.get("image")
        if not isinstance(image, str):
            continue
        tag, digest = _image_parts(image)
        if digest:
            continue
        if tag is None:
            report_violation(
                f"{what} uses image {image!r} without a tag, which means :latest: each node may "
                "run a different version, and a rollout can't be reviewed or rolled back. Pin "
                "it to a version tag (e.g. mirantis/dtr-content-cache:2.9.16, matching your "
                "MSR) or a digest (@sha256:...).",
                None,
            )
        elif tag == "latest":
            report_violation(
                f"{what} uses image {image!r}: :latest changes under you, so each node may run "
                "a different version and a rollout can't be reviewed or rolled back. Pin it to "
                "a version tag (e.g. mirantis/dtr-content-cache:2.9.16, matching your MSR) or "
                "a digest (@sha256:...).",
                None,
            )


def image_by_digest(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    for what, container, _pod in _containers(args):
        image = container.get("image")
        if isinstance(image, str) and not _DIGEST.search(image):
            report_violation(
                f"{what} uses image {image!r} by tag: a tag can be pushed again, so the same "
                "manifest may run different bytes. Pin the digest too: "
                f"{image.partition('@')[0]}@sha256:<digest> (find it with `docker buildx "
                "imagetools inspect <image>` or `crane digest <image>`).",
                None,
            )


# --- a single-node claim rolls out with Recreate ------------------------------------------------


def _namespace(resource: PolicyResource) -> str | None:
    return _known(resource.props, "metadata", "namespace")


def _same_namespace(a: str | None, b: str | None) -> bool:
    # A namespace left out (or unknown in preview) is the provider's default: don't tell apart.
    return a is None or b is None or a == b


def _single_node_modes(claim: PolicyResource) -> list[str]:
    modes = _seq(_known(claim.props, "spec", "accessModes"))
    return [m for m in modes if m in SINGLE_NODE_MODES]


def _claims_mounted(volumes: Any) -> tuple[list[str], bool]:
    """The claim names a pod's volumes mount, and whether some claim's name is unknown."""
    names: list[str] = []
    unknown = False
    for i in range(len(_seq(volumes))):
        try:
            claim = _get(volumes[i], "persistentVolumeClaim")
            name = None if claim is None else _get(claim, "claimName")
        except UnknownValueError:
            unknown = True
            continue
        if isinstance(name, str):
            names.append(name)
    return names, unknown


def rwo_claim_uses_recreate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    claims = [r for r in args.resources if r.resource_type == PVC and _single_node_modes(r)]
    if not claims:
        return
    for deployment in (r for r in args.resources if r.resource_type == DEPLOYMENT):
        strategy = _known(deployment.props, "spec", "strategy", "type") or "RollingUpdate"
        if strategy == "Recreate":
            continue
        namespace = _namespace(deployment)
        volumes = _known(deployment.props, "spec", "template", "spec", "volumes")
        claim_names, some_unknown = _claims_mounted(volumes)
        for claim in claims:
            name = _known(claim.props, "metadata", "name")
            mounted = (
                name is not None
                and name in claim_names
                and _same_namespace(namespace, _namespace(claim))
            ) or (
                # In a preview an auto-named claim's name may be unknown: the Deployment then
                # depends on the claim, which is what mounting it looks like to the engine.
                some_unknown and any(d is claim for d in deployment.dependencies)
            )
            if mounted:
                report_violation(
                    f"{_object_name(deployment.props, 'Deployment')} mounts "
                    f"{_object_name(claim.props, 'PersistentVolumeClaim')} "
                    f"({', '.join(_single_node_modes(claim))}) but rolls out with {strategy}: the "
                    "new pod can't attach the volume while the old one holds it (on another "
                    "node), so the rollout hangs. Set spec.strategy.type: Recreate (and no "
                    "rollingUpdate), or use a ReadWriteMany claim (msr-cache:storageAccessMode).",
                    deployment.urn,
                )


# --- no second way in beside an Ingress or a TLSRoute -------------------------------------------


# "The stack says ingress" is read from the resources, not from policy config: a policy pack can't
# read the stack's `msr-cache:exposure`, so a config value would have to be set again per stack
# (`pulumi policy` config or a file) and could disagree with what is deployed. An Ingress (or a
# TLSRoute) in the namespace is what exposure `ingress` (or `gateway`) creates, so its presence
# is the stack saying it.
def no_exposed_service_beside_ingress(
    args: StackValidationArgs, report_violation: ReportViolation
) -> None:
    ingresses = [r for r in args.resources if r.resource_type in ROUTES]
    if not ingresses:
        return
    for service in (r for r in args.resources if r.resource_type == SERVICE):
        kind = _known(service.props, "spec", "type")
        if kind not in EXPOSED_TYPES:
            continue
        beside = [i for i in ingresses if _same_namespace(_namespace(service), _namespace(i))]
        if beside:
            route = _kind(beside[0].resource_type)
            proxy = "the ingress controller" if route == "Ingress" else "the Gateway"
            report_violation(
                f"{_object_name(service.props, 'Service')} is of type {kind} although "
                f"{_object_name(beside[0].props, route)} exposes the namespace: it opens a "
                f"second way in that bypasses {proxy}, on an address the certificate's SANs may "
                f"not name. Make the Service ClusterIP (the {route} reaches it in the cluster), "
                f"or drop the {route} and use exposure nodePort or loadBalancer.",
                service.urn,
            )


# --- alerts users can act on ----------------------------------------------------------------------

PROMETHEUS_RULE = "kubernetes:monitoring.coreos.com/v1:PrometheusRule"
SEVERITIES = ("critical", "warning", "info")  # as the component's alerts set them


def alerts_are_actionable(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type != PROMETHEUS_RULE:
        return
    what = _object_name(args.props, "PrometheusRule")
    for group in _seq(_known(args.props, "spec", "groups")):
        for rule in _seq(_map(group).get("rules")):
            rule = _map(rule)
            name = rule.get("alert")
            if not isinstance(name, str):  # a recording rule
                continue
            severity = _map(rule.get("labels")).get("severity")
            missing = (
                [] if severity in SEVERITIES else ["labels.severity (critical, warning or info)"]
            )
            if not _map(rule.get("annotations")).get("runbook_url"):
                missing.append("annotations.runbook_url")
            if missing:
                report_violation(
                    f"Alert {name} of {what} lacks {' and '.join(missing)}: whoever it "
                    "wakes cannot tell how urgent it is or what to do. Add labels.severity and "
                    "annotations.runbook_url (a page saying what it means, what to check, how "
                    "to fix it).",
                    None,
                )


MANDATORY = EnforcementLevel.MANDATORY
ADVISORY = EnforcementLevel.ADVISORY

POLICIES: list[ResourceValidationPolicy | StackValidationPolicy] = [
    ResourceValidationPolicy(
        name="cache-serves-tls",
        description="An MSR cache's config.yaml sets http.tls (certificate and key) and an https:// http.host.",
        validate=cache_serves_tls,
        enforcement_level=MANDATORY,
    ),
    ResourceValidationPolicy(
        name="no-secret-in-configmap",
        description="No ConfigMap holds a secret: no http.secret, no PEM private key, no value under a key named secret/password/token.",
        validate=no_secret_in_config_map,
        enforcement_level=MANDATORY,
    ),
    ResourceValidationPolicy(
        name="container-seccomp-runtime-default",
        description="Every container runs with the RuntimeDefault seccomp profile (pod or container securityContext).",
        validate=seccomp_runtime_default,
        enforcement_level=MANDATORY,
    ),
    ResourceValidationPolicy(
        name="container-no-privilege-escalation",
        description="Every container sets allowPrivilegeEscalation: false and is not privileged.",
        validate=no_privilege_escalation,
        enforcement_level=MANDATORY,
    ),
    ResourceValidationPolicy(
        name="container-probes",
        description="Every container has a readiness and a liveness probe.",
        validate=probes,
        enforcement_level=MANDATORY,
    ),
    ResourceValidationPolicy(
        name="container-memory-limit",
        description="Every container has resources.limits.memory.",
        validate=memory_limit,
        enforcement_level=MANDATORY,
    ),
    ResourceValidationPolicy(
        name="image-pinned",
        description="Every image is pinned by a version tag or a digest, never :latest or untagged.",
        validate=image_pinned,
        enforcement_level=MANDATORY,
    ),
    ResourceValidationPolicy(
        name="image-by-digest",
        description="Every image is pinned by digest (@sha256:...), so a re-pushed tag can't change what runs.",
        validate=image_by_digest,
        enforcement_level=ADVISORY,
    ),
    ResourceValidationPolicy(
        name="alerts-are-actionable",
        description="Every alert of a PrometheusRule has a severity (critical, warning, info) and a runbook_url.",
        validate=alerts_are_actionable,
        enforcement_level=MANDATORY,
    ),
    StackValidationPolicy(
        name="rwo-claim-uses-recreate",
        description="A Deployment mounting a ReadWriteOnce(Pod) claim rolls out with strategy Recreate.",
        validate=rwo_claim_uses_recreate,
        enforcement_level=MANDATORY,
    ),
    StackValidationPolicy(
        name="no-exposed-service-beside-ingress",
        description="Beside an Ingress or a Gateway API TLSRoute, no Service of type LoadBalancer or NodePort opens a second way in.",
        validate=no_exposed_service_beside_ingress,
        enforcement_level=ADVISORY,
    ),
]
