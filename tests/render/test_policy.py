"""The policy pack (policy/): each policy without the Pulumi engine, then the pack as the engine runs it.

Constructing a PolicyPack starts the analyzer's server, so most tests never do: they call each
policy's `validate` with ResourceValidationArgs / StackValidationArgs built by hand from the
rendered manifests, their props wrapped in the same unknown-checking proxy the engine uses. Every
policy passes every rendered scenario and fails on a copy broken the way it guards against.
The last tests start the pack as the Pulumi CLI does, from its own virtualenv (policy/venv), and
play the engine's side of its gRPC Analyzer service.
"""

from __future__ import annotations

import base64
import copy
import importlib.util
import os
import runpy
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pulumi_policy
import pytest
import yaml
from google.protobuf import empty_pb2, struct_pb2
from harness import plugin_channel, unavailable
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc
from pulumi_policy import (
    EnforcementLevel,
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, unknown_checking_proxy

from render.__main__ import ROOT

POLICY_DIR = ROOT / "policy"
STACKS = ROOT / "tests" / "render" / "stacks"
SCENARIOS = [
    "dev",
    *sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in STACKS.glob("Pulumi.*.yaml")),
]


def _load_policies() -> Any:
    # policy/ is not a package: Pulumi runs it as a folder. Load its module by path, under a name
    # that can't clash with anything on sys.path.
    spec = importlib.util.spec_from_file_location("msr_cache_policies", POLICY_DIR / "policies.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


policies = _load_policies()
BY_NAME = {p.name: p for p in policies.POLICIES}

# What the issue asks of each policy: mandatory unless it says advisory.
LEVELS = {
    "cache-serves-tls": EnforcementLevel.MANDATORY,
    "no-secret-in-configmap": EnforcementLevel.MANDATORY,
    "container-seccomp-runtime-default": EnforcementLevel.MANDATORY,
    "container-no-privilege-escalation": EnforcementLevel.MANDATORY,
    "container-probes": EnforcementLevel.MANDATORY,
    "container-memory-limit": EnforcementLevel.MANDATORY,
    "image-pinned": EnforcementLevel.MANDATORY,
    "image-by-digest": EnforcementLevel.ADVISORY,
    "alerts-are-actionable": EnforcementLevel.MANDATORY,
    "rwo-claim-uses-recreate": EnforcementLevel.MANDATORY,
    "no-exposed-service-beside-ingress": EnforcementLevel.ADVISORY,
}
# The stack's default image is pinned by tag, not digest: the advisory policy says so, by design.
ADVISES_ON_RENDER = {"image-by-digest"}
DIGEST = "sha256:" + "ab" * 32
OPTS = PolicyResourceOptions(
    protect=False,
    ignore_changes=[],
    delete_before_replace=None,
    aliases=[],
    custom_timeouts=PolicyCustomTimeouts(0, 0, 0),
    additional_secret_outputs=[],
)


# --- the objects, as the engine would hand them to the pack -------------------------------------


@pytest.fixture(scope="module")
def rendered(rendered: dict[str, Path]) -> dict[str, list[dict[str, Any]]]:
    # The session's one render of each stack (tests/conftest.py), shared with tests/render/test_render.py.
    return {
        stack: [
            yaml.safe_load(p.read_text())
            for p in sorted((rendered[stack] / "1-manifest").glob("*.yaml"))
        ]
        for stack in rendered  # the scenarios, and the project's other stacks (kind, ...)
    }


def resource_type(obj: dict[str, Any]) -> str:
    group_version = obj["apiVersion"] if "/" in obj["apiVersion"] else f"core/{obj['apiVersion']}"
    return f"kubernetes:{group_version}:{obj['kind']}"


def urn(obj: dict[str, Any]) -> str:
    return f"urn:pulumi:test::msr-cache::{resource_type(obj)}::{obj['metadata']['name']}"


def resource_args(obj: dict[str, Any]) -> ResourceValidationArgs:
    return ResourceValidationArgs(
        resource_type(obj),
        unknown_checking_proxy(copy.deepcopy(obj)),
        urn(obj),
        obj["metadata"]["name"],
        OPTS,
        None,
    )


def policy_resource(obj: dict[str, Any]) -> PolicyResource:
    return PolicyResource(
        resource_type(obj),
        unknown_checking_proxy(copy.deepcopy(obj)),
        urn(obj),
        obj["metadata"]["name"],
        OPTS,
        None,
        None,
        [],
        {},
    )


def violations(policy_name: str, objects: list[dict[str, Any]]) -> list[tuple[str, str | None]]:
    """(message, urn) of each violation `policy_name` reports on a stack of `objects`."""
    policy = BY_NAME[policy_name]
    found: list[tuple[str, str | None]] = []

    def report_violation(message: str, urn: str | None = None) -> None:
        found.append((message, urn))

    if isinstance(policy, StackValidationPolicy):
        assert (
            policy.validate(
                StackValidationArgs([policy_resource(o) for o in objects]), report_violation
            )
            is None
        )
    else:
        for obj in objects:
            assert policy.validate(resource_args(obj), report_violation) is None
    return found


def only(objects: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    """The stack's one object of `kind` that is not a monitoring one (the dashboard's ConfigMap,
    the metrics Service)."""
    (obj,) = [o for o in objects if o["kind"] == kind and not _monitoring(o)]
    return obj


def _monitoring(obj: dict[str, Any]) -> bool:
    labels = obj["metadata"].get("labels") or {}
    return "grafana_dashboard" in labels or labels.get("app.kubernetes.io/component") == "metrics"


def container(objects: list[dict[str, Any]]) -> dict[str, Any]:
    return only(objects, "Deployment")["spec"]["template"]["spec"]["containers"][0]


def edit_config(objects: list[dict[str, Any]], change: Callable[[dict[str, Any]], None]) -> None:
    data = only(objects, "ConfigMap")["data"]
    config = yaml.safe_load(data["config.yaml"])
    change(config)
    data["config.yaml"] = yaml.safe_dump(config, sort_keys=False)


# --- the pack -----------------------------------------------------------------------------------


def test_policies_are_uniquely_named_at_the_level_the_issue_asks():
    names = [p.name for p in policies.POLICIES]
    assert len(names) == len(set(names))
    assert {p.name: p.enforcement_level for p in policies.POLICIES} == LEVELS
    assert all(
        isinstance(p, ResourceValidationPolicy | StackValidationPolicy) and p.description
        for p in policies.POLICIES
    )


def test_main_makes_the_pack_from_the_sibling_module_as_pulumi_runs_it(monkeypatch):
    made: list[dict[str, Any]] = []
    # The real PolicyPack would serve forever: record what __main__ passes it instead.
    monkeypatch.setattr(pulumi_policy, "PolicyPack", lambda **kwargs: made.append(kwargs))
    try:
        runpy.run_path(str(POLICY_DIR), run_name="__main__")  # what `python policy/` does
    finally:
        sys.modules.pop("policies", None)
    (pack,) = made
    assert pack["name"] == "msr-cache"
    assert [p.name for p in pack["policies"]] == list(LEVELS)


def test_the_pack_runs_python_in_its_own_virtualenv():
    project = yaml.safe_load((POLICY_DIR / "PulumiPolicy.yaml").read_text())
    assert project["runtime"]["name"] == "python"
    assert project["runtime"]["options"]["virtualenv"] == "venv"
    assert project["description"]
    requirements = (POLICY_DIR / "requirements.txt").read_text()
    for package in ("pulumi-policy", "pulumi>=", "PyYAML"):
        assert package in requirements


# --- compliant: every rendered scenario ---------------------------------------------------------


def test_every_scenario_is_rendered(rendered):
    # An empty render would pass every policy: make sure each scenario has its objects.
    for stack in SCENARIOS:
        kinds = {o["kind"] for o in rendered[stack]}
        assert {"ConfigMap", "Secret", "Deployment", "Service"} <= kinds, stack
    assert any(o["kind"] == "Ingress" for o in rendered["ingress-ca"])
    assert any(o["kind"] == "TLSRoute" for o in rendered["gateway"])
    assert {"Gateway", "TLSRoute"} <= {o["kind"] for o in rendered["gateway-class"]}
    assert any(o["kind"] == "PersistentVolumeClaim" for o in rendered["nodeport-pvc-ca"])


@pytest.mark.parametrize("policy_name", [n for n in LEVELS if n not in ADVISES_ON_RENDER])
@pytest.mark.parametrize("stack", SCENARIOS)
def test_the_rendered_stack_complies(rendered, stack, policy_name):
    # Every object, Secrets and Namespaces included, goes through every policy.
    assert violations(policy_name, rendered[stack]) == []


@pytest.mark.parametrize("stack", SCENARIOS)
def test_a_tag_pinned_image_is_advised_to_use_a_digest(rendered, stack):
    objects = copy.deepcopy(rendered[stack])
    ((message, _),) = violations("image-by-digest", objects)
    assert "mirantis/dtr-content-cache:2.9.16" in message and "@sha256:" in message
    container(objects)["image"] = f"mirantis/dtr-content-cache:2.9.16@{DIGEST}"
    assert violations("image-by-digest", objects) == []
    assert violations("image-pinned", objects) == []


def test_secrets_are_not_configmaps(rendered):
    # A Secret is where keys belong: even one holding a PEM key in plaintext is not flagged.
    secret = copy.deepcopy(only(rendered["dev"], "Secret"))
    secret["stringData"] = {"cache.key.pem": "-----BEGIN PRIVATE KEY-----\nMIIB\n"}
    secret["data"]["password"] = base64.b64encode(b"hunter2").decode()
    for name in LEVELS:
        assert violations(name, [secret]) == [], name


# --- violating: a copy broken the way each policy guards against --------------------------------


def _drop_tls(objects):
    edit_config(objects, lambda c: c["http"].pop("tls"))


def _empty_tls_key(objects):
    edit_config(objects, lambda c: c["http"]["tls"].update(key=""))


def _http_host(objects):
    edit_config(objects, lambda c: c["http"].update(host="http://cache.example.com"))


def _http_secret(objects):
    edit_config(objects, lambda c: c["http"].update(secret="s3cr3t-value"))


def _s3_secret_key(objects):
    edit_config(
        objects,
        lambda c: c["storage"].update(s3={"accesskey": "AKIA", "secretkey": "s3cr3t-value"}),
    )


def _pem_in_data(objects):
    only(objects, "ConfigMap")["data"]["cache.key.pem"] = (
        "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEE\n-----END EC PRIVATE KEY-----\n"
    )


def _pem_in_binary_data(objects):
    pem = b"-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----\n"
    only(objects, "ConfigMap")["binaryData"] = {"key.bin": base64.b64encode(pem).decode()}


def _password_key(objects):
    only(objects, "ConfigMap")["data"]["registry-password"] = "s3cr3t-value"


def _api_token_key(objects):
    only(objects, "ConfigMap")["data"]["API_TOKEN"] = "s3cr3t-value"


def _drop_seccomp(objects):
    container(objects)["securityContext"].pop("seccompProfile")
    only(objects, "Deployment")["spec"]["template"]["spec"]["securityContext"].pop("seccompProfile")


def _unconfined_container(objects):
    # The pod says RuntimeDefault, but the container's own profile wins.
    container(objects)["securityContext"]["seccompProfile"] = {"type": "Unconfined"}


def _escalation_allowed(objects):
    container(objects)["securityContext"]["allowPrivilegeEscalation"] = True


def _escalation_unset(objects):
    container(objects)["securityContext"].pop("allowPrivilegeEscalation")


def _privileged(objects):
    container(objects)["securityContext"]["privileged"] = True


def _no_readiness(objects):
    container(objects).pop("readinessProbe")


def _no_liveness(objects):
    container(objects).pop("livenessProbe")


def _no_memory_limit(objects):
    container(objects)["resources"]["limits"].pop("memory")


def _no_limits(objects):
    container(objects)["resources"].pop("limits")


def _init_container_without_limit(objects):
    init = copy.deepcopy(container(objects))
    init.update(name="warm-up")
    init.pop("resources")
    only(objects, "Deployment")["spec"]["template"]["spec"]["initContainers"] = [init]


def _latest(objects):
    container(objects)["image"] = "mirantis/dtr-content-cache:latest"


def _untagged(objects):
    container(objects)["image"] = "mirantis/dtr-content-cache"


def _untagged_behind_a_port(objects):
    container(objects)["image"] = "registry.example.com:5000/mirantis/dtr-content-cache"


def _rolling_update(objects):
    only(objects, "Deployment")["spec"]["strategy"] = {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1},
    }


def _default_strategy(objects):
    only(objects, "Deployment")["spec"].pop("strategy")


def _node_port_beside_ingress(objects):
    service = only(objects, "Service")["spec"]
    service["type"] = "NodePort"
    service["ports"][0]["nodePort"] = 30443


def _load_balancer_beside_ingress(objects):
    only(objects, "Service")["spec"]["type"] = "LoadBalancer"


def _alert(objects, name):
    rules = only(objects, "PrometheusRule")["spec"]["groups"][0]["rules"]
    (rule,) = [r for r in rules if r["alert"] == name]
    return rule


def _no_severity(objects):
    _alert(objects, "MsrCacheDown")["labels"].pop("severity")


def _unknown_severity(objects):
    _alert(objects, "MsrCacheHitRatioLow")["labels"]["severity"] = "page-me"


def _no_runbook(objects):
    _alert(objects, "MsrCacheVolumeAlmostFull")["annotations"].pop("runbook_url")


BROKEN = [
    # (policy, scenario, break it, what the message must say)
    ("cache-serves-tls", "dev", _drop_tls, "http.tls.certificate and http.tls.key not set"),
    ("cache-serves-tls", "ingress-ca", _empty_tls_key, "http.tls.key not set"),
    ("cache-serves-tls", "dev", _http_host, "https://"),
    ("no-secret-in-configmap", "dev", _http_secret, "REGISTRY_HTTP_SECRET"),
    ("no-secret-in-configmap", "dev", _s3_secret_key, "storage.s3.secretkey"),
    ("no-secret-in-configmap", "nodeport-pvc-ca", _pem_in_data, "PEM private key"),
    ("no-secret-in-configmap", "dev", _pem_in_binary_data, "PEM private key"),
    ("no-secret-in-configmap", "dev", _password_key, "'registry-password'"),
    ("no-secret-in-configmap", "hostport", _api_token_key, "'API_TOKEN'"),
    ("container-seccomp-runtime-default", "dev", _drop_seccomp, "no seccompProfile"),
    ("container-seccomp-runtime-default", "hostport", _unconfined_container, "Unconfined"),
    ("container-no-privilege-escalation", "dev", _escalation_allowed, "is true"),
    ("container-no-privilege-escalation", "dev", _escalation_unset, "is not set"),
    ("container-no-privilege-escalation", "ingress-ca", _privileged, "is privileged"),
    ("container-probes", "dev", _no_readiness, "no readinessProbe"),
    ("container-probes", "loadbalancer-pvc", _no_liveness, "no livenessProbe"),
    ("container-memory-limit", "dev", _no_memory_limit, "resources.limits.memory"),
    ("container-memory-limit", "hostport", _no_limits, "resources.limits.memory"),
    ("container-memory-limit", "dev", _init_container_without_limit, "init container 'warm-up'"),
    ("image-pinned", "dev", _latest, ":latest"),
    ("image-pinned", "dev", _untagged, "without a tag"),
    ("image-pinned", "dev", _untagged_behind_a_port, "without a tag"),
    ("rwo-claim-uses-recreate", "nodeport-pvc-ca", _rolling_update, "ReadWriteOnce"),
    ("rwo-claim-uses-recreate", "nodeport-pvc-ca", _default_strategy, "RollingUpdate"),
    ("no-exposed-service-beside-ingress", "ingress-ca", _node_port_beside_ingress, "NodePort"),
    (
        "no-exposed-service-beside-ingress",
        "ingress-ca",
        _load_balancer_beside_ingress,
        "LoadBalancer",
    ),
    ("no-exposed-service-beside-ingress", "gateway", _node_port_beside_ingress, "TLSRoute"),
    ("no-exposed-service-beside-ingress", "gateway-class", _load_balancer_beside_ingress,
     "bypasses the Gateway"),
    ("alerts-are-actionable", "ha", _no_severity, "Alert MsrCacheDown of PrometheusRule dtr/"),
    ("alerts-are-actionable", "certmanager-gcs", _unknown_severity, "lacks labels.severity"),
    ("alerts-are-actionable", "nodeport-pvc-ca", _no_runbook, "lacks annotations.runbook_url"),
]  # fmt: skip
# How each message tells the reader to fix it.
FIX = {
    "cache-serves-tls": "Set http.",
    "no-secret-in-configmap": "Put the value in a Secret",
    "container-seccomp-runtime-default": "Set securityContext.seccompProfile.type: RuntimeDefault",
    "container-no-privilege-escalation": "allowPrivilegeEscalation: false",
    "container-probes": "Add both",
    "container-memory-limit": "Set resources.limits.memory",
    "image-pinned": "Pin it to a version tag",
    "rwo-claim-uses-recreate": "Set spec.strategy.type: Recreate",
    "no-exposed-service-beside-ingress": "Make the Service ClusterIP",
    "alerts-are-actionable": "Add labels.severity and annotations.runbook_url",
}


@pytest.mark.parametrize(
    ("policy_name", "stack", "breaking", "says"),
    BROKEN,
    ids=[f"{p}-{b.__name__.strip('_')}" for p, _, b, _ in BROKEN],
)
def test_a_broken_copy_is_reported_with_what_is_wrong_and_the_fix(
    rendered, policy_name, stack, breaking, says
):
    objects = copy.deepcopy(rendered[stack])
    breaking(objects)
    found = violations(policy_name, objects)
    assert found, f"{policy_name} let {breaking.__name__} through"
    assert any(says in message for message, _ in found), found
    for message, _urn in found:
        assert FIX[policy_name] in message, message
        assert "s3cr3t-value" not in message  # a message never repeats a secret


def test_every_policy_has_a_broken_case():
    assert {p for p, *_ in BROKEN} == set(LEVELS) - ADVISES_ON_RENDER


def test_a_stack_violation_names_the_object_to_fix(rendered):
    objects = copy.deepcopy(rendered["nodeport-pvc-ca"])
    _rolling_update(objects)
    ((message, at),) = violations("rwo-claim-uses-recreate", objects)
    assert at == urn(only(objects, "Deployment"))
    assert "Deployment dtr/dtr-cache" in message and "nodeport-pvc-ca-data-" in message


# --- what the stack policies leave alone --------------------------------------------------------


def test_a_read_write_many_claim_may_roll(rendered):
    objects = copy.deepcopy(rendered["loadbalancer-pvc"])
    assert only(objects, "Deployment")["spec"]["strategy"]["type"] == "RollingUpdate"
    assert only(objects, "PersistentVolumeClaim")["spec"]["accessModes"] == ["ReadWriteMany"]
    assert violations("rwo-claim-uses-recreate", objects) == []


def test_a_read_write_once_claim_nobody_mounts_is_no_concern(rendered):
    objects = copy.deepcopy(rendered["nodeport-pvc-ca"])
    _rolling_update(objects)
    only(objects, "PersistentVolumeClaim")["metadata"]["name"] = "someone-elses-claim"
    assert violations("rwo-claim-uses-recreate", objects) == []


def test_an_ingress_in_another_namespace_leaves_a_node_port_alone(rendered):
    objects = copy.deepcopy(rendered["nodeport-pvc-ca"])
    ingress = copy.deepcopy(only(rendered["ingress-ca"], "Ingress"))
    ingress["metadata"]["namespace"] = "ingress-nginx"
    assert violations("no-exposed-service-beside-ingress", [*objects, ingress]) == []
    ingress["metadata"]["namespace"] = "dtr"
    assert len(violations("no-exposed-service-beside-ingress", [*objects, ingress])) == 1


def test_a_tls_route_in_another_namespace_leaves_a_node_port_alone(rendered):
    objects = copy.deepcopy(rendered["nodeport-pvc-ca"])
    route = copy.deepcopy(only(rendered["gateway"], "TLSRoute"))
    route["metadata"]["namespace"] = "elsewhere"
    assert violations("no-exposed-service-beside-ingress", [*objects, route]) == []
    route["metadata"]["namespace"] = "dtr"
    ((message, at),) = violations("no-exposed-service-beside-ingress", [*objects, route])
    assert "TLSRoute dtr/dtr-cache exposes the namespace" in message
    assert at == urn(only(objects, "Service"))


def test_in_a_preview_an_unknown_claim_name_is_matched_through_dependencies(rendered):
    objects = copy.deepcopy(rendered["nodeport-pvc-ca"])
    _rolling_update(objects)
    for volume in only(objects, "Deployment")["spec"]["template"]["spec"]["volumes"]:
        if "persistentVolumeClaim" in volume:
            volume["persistentVolumeClaim"]["claimName"] = UNKNOWN_STRING_VALUE
    resources = {o["kind"]: policy_resource(o) for o in objects}
    report: list[str] = []
    policy = BY_NAME["rwo-claim-uses-recreate"]

    policy.validate(
        StackValidationArgs(list(resources.values())), lambda m, u=None: report.append(m)
    )
    assert report == []  # no dependency recorded: nothing ties the Deployment to the claim
    resources["Deployment"].dependencies.append(resources["PersistentVolumeClaim"])
    policy.validate(
        StackValidationArgs(list(resources.values())), lambda m, u=None: report.append(m)
    )
    assert len(report) == 1 and "(auto-named)" not in report[0]


def test_a_path_under_a_secret_name_is_not_a_secret(rendered):
    objects = copy.deepcopy(rendered["dev"])
    data = only(objects, "ConfigMap")["data"]
    data["secret-name"] = "dev-certs"
    data["passwordFile"] = "/run/secrets/password"
    data["token_path"] = "/var/run/token"
    data["api-token"] = ""
    assert violations("no-secret-in-configmap", objects) == []


@pytest.mark.parametrize(
    "image",
    [
        "mirantis/dtr-content-cache:2.9.16",
        "registry.example.com:5000/mirantis/dtr-content-cache:2.9.16",
        f"mirantis/dtr-content-cache@{DIGEST}",
        f"mirantis/dtr-content-cache:latest@{DIGEST}",
    ],
)
def test_a_version_tag_or_a_digest_pins_an_image(rendered, image):
    objects = copy.deepcopy(rendered["dev"])
    container(objects)["image"] = image
    assert violations("image-pinned", objects) == []


def test_an_unknown_value_is_left_to_the_engine(rendered):
    # In a preview the engine turns UnknownValueError into "can't run policy during preview".
    obj = copy.deepcopy(only(rendered["dev"], "Deployment"))
    obj["spec"]["template"]["spec"]["containers"][0]["image"] = UNKNOWN_STRING_VALUE
    with pytest.raises(pulumi_policy.proxy.UnknownValueError):
        BY_NAME["image-pinned"].validate(resource_args(obj), lambda m, u=None: None)


# --- the pack as the Pulumi CLI runs it ----------------------------------------------------------
#
# `pulumi preview --policy-pack policy` (pkg/engine/update.go) asks the language host to run the
# pack (pulumi-language-python's RunPlugin): in the pack's folder, with the Python of the
# virtualenv PulumiPolicy.yaml names, `python -u -m pulumi.policy <engine address> <pack dir>`.
# The pack prints the port of its Analyzer gRPC server; the engine then asks it for its policies
# (GetAnalyzerInfo) and has it check each resource (Analyze) and the whole stack (AnalyzeStack).

POLICY_VENV = (
    POLICY_DIR
    / yaml.safe_load((POLICY_DIR / "PulumiPolicy.yaml").read_text())["runtime"]["options"][
        "virtualenv"
    ]
)
LEVEL_NAMES = {
    analyzer_pb2.ADVISORY: EnforcementLevel.ADVISORY,
    analyzer_pb2.MANDATORY: EnforcementLevel.MANDATORY,
}


@pytest.fixture(scope="module")
def analyzer() -> Iterator[analyzer_pb2_grpc.AnalyzerStub]:
    """The pack, started from its own virtualenv as the CLI starts it, and the engine's client."""
    python = POLICY_VENV / "bin" / "python"
    if not python.exists():
        unavailable(f"{python} is missing: make policy/venv/.installed (make test builds it)")
    # The engine's address: the pack serves without calling it.
    command = [str(python), "-u", "-m", "pulumi.policy", "127.0.0.1:1", str(POLICY_DIR)]
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    with plugin_channel(command, POLICY_DIR, env) as channel:
        yield analyzer_pb2_grpc.AnalyzerStub(channel)


def _fields(obj: dict[str, Any]) -> dict[str, Any]:
    """What the engine says of a resource: its type, properties (a protobuf Struct), URN, name."""
    properties = struct_pb2.Struct()
    properties.update(obj)
    return {"type": resource_type(obj), "properties": properties, "urn": urn(obj),
            "name": obj["metadata"]["name"]}  # fmt: skip


def analyze(stub: Any, objects: list[dict[str, Any]]) -> list[tuple[str, EnforcementLevel]]:
    """(policy, level) of every diagnostic the pack returns for `objects`, checked one by one
    and as a stack, as the engine asks for them."""
    found = []
    for obj in objects:
        request = analyzer_pb2.AnalyzeRequest(**_fields(obj))
        found += stub.Analyze(request, timeout=30).diagnostics
    stack = [analyzer_pb2.AnalyzerResource(**_fields(o)) for o in objects]
    found += stub.AnalyzeStack(
        analyzer_pb2.AnalyzeStackRequest(resources=stack), timeout=30
    ).diagnostics
    for diagnostic in found:
        assert diagnostic.policyPackName == "msr-cache" and diagnostic.message
    return [(d.policyName, LEVEL_NAMES[d.enforcementLevel]) for d in found]


def test_the_pack_starts_from_its_virtualenv_and_lists_every_policy(analyzer):
    info = analyzer.GetAnalyzerInfo(empty_pb2.Empty(), timeout=30)
    assert info.name == "msr-cache"
    assert {p.name: LEVEL_NAMES[p.enforcementLevel] for p in info.policies} == LEVELS
    assert all(p.description for p in info.policies)


@pytest.mark.parametrize("stack", ["dev", "kind", "kind-gateway"])
def test_the_pack_lets_the_rendered_stack_through(analyzer, rendered, stack):
    # The project's stacks (e2e.yml deploys kind and kind-gateway with the pack): no mandatory
    # violation; the advisory one on the tag-pinned image is a warning in the preview.
    found = analyze(analyzer, rendered[stack])
    assert [name for name, level in found if level is EnforcementLevel.MANDATORY] == []
    assert ("image-by-digest", EnforcementLevel.ADVISORY) in found


def test_the_pack_stops_a_broken_deployment(analyzer, rendered):
    objects = copy.deepcopy(rendered["dev"])
    for breaking in (_drop_seccomp, _escalation_allowed, _no_readiness, _no_memory_limit, _latest):
        breaking(objects)
    found = analyze(analyzer, [only(objects, "Deployment")])
    assert {name for name, level in found if level is EnforcementLevel.MANDATORY} == {
        "container-seccomp-runtime-default",
        "container-no-privilege-escalation",
        "container-probes",
        "container-memory-limit",
        "image-pinned",
    }
