"""tests/render/crd_schemas.py: custom resources are held to their CRD's structural schema as the API
server holds them (unknown fields are errors), and the vendored CRDs say where they come from."""

from __future__ import annotations

import copy
import json
import re
from typing import Any

import pytest
from crd_schemas import CRD_DIR, CRDS, FORMATS, Crd, crd_for, go_regex, validate
from jsonschema import Draft4Validator

ADDRESS_ONE_OF = [  # as Gateway API's GatewaySpecAddress: value validations inside a junctor
    {
        "properties": {
            "type": {"enum": ["IPAddress"]},
            "value": {"anyOf": [{"format": "ipv4"}, {"format": "ipv6"}]},
        }
    },
    {"properties": {"type": {"not": {"enum": ["IPAddress"]}}}},
]
SPEC: dict[str, Any] = {
    "type": "object",
    "required": ["size"],
    "properties": {
        "size": {"type": "string", "enum": ["small", "large"]},
        "port": {
            "x-kubernetes-int-or-string": True,
            "anyOf": [{"type": "integer"}, {"type": "string"}],
        },
        "free": {
            "type": "object",
            "x-kubernetes-preserve-unknown-fields": True,
            "properties": {"known": {"type": "object", "properties": {"a": {"type": "string"}}}},
        },
        "empty": {"type": "object"},
        "labels": {"type": "object", "additionalProperties": {"type": "string"}},
        "note": {"type": "string", "nullable": True},
        "replicas": {"type": "integer", "format": "int32", "default": 1},
        "hosts": {
            "type": "array",
            "x-kubernetes-list-type": "set",
            "items": {"type": "string", "pattern": "^[a-z]+$"},
        },
        "ports": {
            "type": "array",
            "x-kubernetes-list-type": "map",
            "x-kubernetes-list-map-keys": ["name"],
            "items": {
                "type": "object",
                "properties": {"name": {"type": "string"}, "port": {"type": "integer"}},
            },
        },
        "address": {
            "type": "object",
            "properties": {"type": {"type": "string"}, "value": {"type": "string"}},
            "oneOf": ADDRESS_ONE_OF,
        },
        "when": {"type": "string", "format": "date-time"},
    },
}
WIDGET = Crd(
    "example.com",
    "v1",
    "Widget",
    {
        "type": "object",
        "properties": {
            "apiVersion": {"type": "string"},
            "kind": {"type": "string"},
            "metadata": {"type": "object"},
            "spec": SPEC,
        },
    },
)


def widget(**spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "example.com/v1",
        "kind": "Widget",
        "metadata": {"name": "w", "namespace": "dtr"},
        "spec": {"size": "small", **spec},
    }


@pytest.mark.parametrize(
    "obj",
    [
        widget(),
        widget(port=8443),  # int-or-string: an integer
        widget(port="https"),  # or a string
        widget(port=None),  # a null that is not nullable and has no default is dropped
        widget(free={"anything": {"at": ["all"]}, "known": {"a": "x"}}),
        widget(empty={}),
        widget(labels={"app": "cache"}),
        widget(note=None),
        widget(replicas=None),  # defaulted to 1
        widget(replicas=3.0),  # a whole float is an integer
        widget(replicas=2**31 - 1),
        widget(hosts=["a", "b"], ports=[{"name": "a", "port": 1}, {"name": "b", "port": 1}]),
        widget(address={"type": "IPAddress", "value": "10.0.0.1"}),
        widget(address={"type": "IPAddress", "value": "010.0.0.1"}),  # ParseIPSloppy
        widget(address={"type": "IPAddress", "value": "fd00::1"}),
        widget(address={"type": "Hostname", "value": "cache.example.com"}),
        widget(when="2026-02-28T10:00:00Z"),
        widget(when="2026-02-28t10:00:00.5+01:00"),
        {**widget(), "metadata": {"name": "w", "anything": "goes"}},  # ObjectMeta: not the CRD's
    ],
)
def test_valid(obj):
    assert WIDGET.validate(obj) == []


@pytest.mark.parametrize(
    ("obj", "message"),
    [
        ({**widget(), "extra": 1}, 'unknown field "extra"'),
        (widget(extra=1), 'unknown field "spec.extra"'),
        (widget(ports=[{"name": "a", "extra": 1}]), 'unknown field "spec.ports[0].extra"'),
        # preserve-unknown-fields keeps unknown fields, not those under a known property
        (widget(free={"known": {"b": 1}}), 'unknown field "spec.free.known.b"'),
        (widget(empty={"x": 1}), 'unknown field "spec.empty.x"'),  # no properties: none known
        (widget(labels={"app": 1}), "spec.labels.app: 1 is not of type 'string'"),
        (widget(port=1.5), "spec.port: 1.5 is not of type 'integer', 'string'"),
        (widget(port=True), "spec.port: True is not of type 'integer', 'string'"),
        ({**widget(), "spec": {}}, "spec: 'size' is a required property"),
        (widget(size=None), "spec: 'size' is a required property"),  # the null is dropped
        (widget(size="medium"), "spec.size: 'medium' is not one of ['small', 'large']"),
        (widget(replicas=2**31), "spec.replicas: 2147483648 is not a 'int32'"),
        (widget(hosts=["a", "b", "a"]), 'spec.hosts[2]: Duplicate value: "a"'),
        (
            widget(ports=[{"name": "a"}, {"name": "a"}]),
            'spec.ports[1]: Duplicate value: {"name": "a"}',
        ),
        (widget(ports=["a"]), "spec.ports[0]: must be an object for an array of list-type map"),
        (widget(hosts=["abc\n"]), "spec.hosts[0]: 'abc\\n' does not match '^[a-z]+$'"),  # RE2's $
        (widget(address={"type": "IPAddress", "value": "cache.example.com"}), "spec.address: "),
        (widget(address={"type": "IPAddress", "value": "fe80::1%eth0"}), "spec.address: "),
        (widget(address={"type": "IPAddress", "value": "1.2.3"}), "spec.address: "),
        (
            widget(when="2026-02-30T10:00:00Z"),
            "spec.when: '2026-02-30T10:00:00Z' is not a 'datetime'",
        ),
        (
            widget(when="2026-02-28T10:00:00"),
            "spec.when: '2026-02-28T10:00:00' is not a 'datetime'",
        ),
        (
            {**widget(), "apiVersion": "example.com/v2"},
            "apiVersion: 'example.com/v2' is not one of",
        ),
        ({**widget(), "kind": "Gadget"}, "kind: 'Gadget' is not one of ['Widget']"),
        ({**widget(), "metadata": "w"}, "metadata: 'w' is not of type 'object'"),
        (
            {"apiVersion": "example.com/v1", "kind": "Widget"},
            "(root): 'metadata' is a required property",
        ),
    ],
)
def test_invalid(obj, message):
    errors = WIDGET.validate(obj)
    assert any(e.startswith(message) for e in errors), errors


def test_a_schema_with_what_is_not_ported_is_refused():
    embedded = Crd(
        "example.com", "v1", "Widget", {"type": "object", "x-kubernetes-embedded-resource": True}
    )
    with pytest.raises(NotImplementedError):
        embedded.validate(widget())


def test_the_vendored_crds_are_the_kinds_the_component_can_render():
    assert {kind: crd.api_version for kind, crd in CRDS.items()} == {
        "Certificate": "cert-manager.io/v1",
        "ServiceMonitor": "monitoring.coreos.com/v1",
        "PrometheusRule": "monitoring.coreos.com/v1",
        "TLSRoute": "gateway.networking.k8s.io/v1",
        "Gateway": "gateway.networking.k8s.io/v1",
    }


@pytest.mark.parametrize("file", sorted(CRD_DIR.glob("*.json")), ids=lambda p: p.name)
def test_every_vendored_crd_records_its_source_and_licence(file):
    document = json.loads(file.read_text(encoding="utf-8"))
    source = document["source"]
    assert re.fullmatch(r"https://github\.com/[\w.-]+/[\w.-]+", source["repository"])
    assert re.fullmatch(r"v\d+\.\d+\.\d+", source["tag"])
    assert re.fullmatch(r"[0-9a-f]{40}", source["commit"])
    assert source["path"].endswith(".yaml")
    assert document["licence"] == "Apache-2.0"
    assert file.name.endswith(f".{document['group']}.{document['version']}.json")
    assert document["schema"]["type"] == "object"


def formats(node: Any) -> set[str]:
    if isinstance(node, list):
        return set().union(*map(formats, node))
    if not isinstance(node, dict):
        return set()
    found = {node["format"]} if isinstance(node.get("format"), str) else set()
    return found.union(*(formats(v) for k, v in node.items() if k not in ("enum", "default")))


@pytest.mark.parametrize("kind", sorted(CRDS))
def test_every_schema_converts_to_json_schema_that_checks_what_it_uses(kind):
    # A format the API server checks and FORMATS does not would pass here unchecked.
    converted = CRDS[kind].json_schema
    # The patterns are Go's (RE2), which the metaschema's "regex" format would compile as
    # Python's: go_regex checks them below, as the validator compiles them.
    Draft4Validator.check_schema(converted, format_checker=None)
    assert formats(converted) <= set(FORMATS.checkers)
    for pattern in re.findall(r'"pattern": ("(?:[^"\\]|\\.)*")', json.dumps(converted)):
        go_regex(json.loads(pattern))


CERTIFICATE = {
    "apiVersion": "cert-manager.io/v1",
    "kind": "Certificate",
    "metadata": {"name": "cache", "namespace": "dtr"},
    "spec": {"secretName": "cache-tls", "issuerRef": {"name": "ca", "kind": "ClusterIssuer"}},
}


def changed(obj: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """`obj` with the value at the dotted `path` set, or removed when `value` is ..."""
    out = copy.deepcopy(obj)
    *parents, last = path.split(".")
    node = out
    for key in parents:
        node = node.setdefault(key, {})
    if value is ...:
        del node[last]
    else:
        node[last] = value
    return out


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("spec.unknownField", 1, 'unknown field "spec.unknownField"'),
        ("spec.privateKey.size", 256, None),
        ("spec.privateKey.algorithm", "DSA", "spec.privateKey.algorithm: 'DSA' is not one of"),
        ("spec.privateKey.keySize", 256, 'unknown field "spec.privateKey.keySize"'),
        ("spec.issuerRef", ..., "spec: 'issuerRef' is a required property"),
        ("spec.usages", ["server auth", "server auth"], None),  # atomic: duplicates allowed
        ("spec.usages", ["server"], "spec.usages[0]: 'server' is not one of"),
    ],
)
def test_the_real_certificate_crd(path, value, message):
    errors = validate(changed(CERTIFICATE, path, value))
    assert errors == [] if message is None else any(e.startswith(message) for e in errors), errors


SERVICE_MONITOR = {
    "apiVersion": "monitoring.coreos.com/v1",
    "kind": "ServiceMonitor",
    "metadata": {"name": "cache", "namespace": "dtr"},
    "spec": {"selector": {"matchLabels": {"app": "cache"}}, "endpoints": [{"port": "metrics"}]},
}


@pytest.mark.parametrize(
    ("target_port", "valid"), [(5001, True), ("metrics", True), (5001.5, False), (None, True)]
)
def test_the_real_service_monitor_crd_takes_an_int_or_string_port(target_port, valid):
    obj = copy.deepcopy(SERVICE_MONITOR)
    obj["spec"]["endpoints"][0]["targetPort"] = target_port
    assert (validate(obj) == []) == valid


RULE = {"alert": "CacheDown", "expr": "up == 0", "for": "5m", "labels": {"severity": "page"}}
PROMETHEUS_RULE = {
    "apiVersion": "monitoring.coreos.com/v1",
    "kind": "PrometheusRule",
    "metadata": {"name": "cache", "namespace": "dtr"},
    "spec": {"groups": [{"name": "cache", "rules": [RULE]}]},
}


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("for", "1h30m", None),
        ("for", "5 minutes", "spec.groups[0].rules[0].for: '5 minutes' does not match"),
        ("expr", 1, None),  # int-or-string
        ("expr", ..., "spec.groups[0].rules[0]: 'expr' is a required property"),
        ("severity", "page", 'unknown field "spec.groups[0].rules[0].severity"'),
        ("labels", {"severity": 1}, "spec.groups[0].rules[0].labels.severity: 1 is not of type"),
    ],
)
def test_the_real_prometheus_rule_crd(path, value, message):
    group = {"name": "cache", "rules": [changed(RULE, path, value)]}
    errors = validate(changed(PROMETHEUS_RULE, "spec.groups", [group]))
    assert (errors == []) if message is None else any(e.startswith(message) for e in errors), errors


def test_the_real_prometheus_rule_crd_keys_groups_by_name():
    group = PROMETHEUS_RULE["spec"]["groups"][0]
    assert validate(changed(PROMETHEUS_RULE, "spec.groups", [group, group])) == [
        'spec.groups[1]: Duplicate value: {"name": "cache"}'
    ]


@pytest.mark.parametrize(("strategy", "valid"), [("ABORT", True), ("warn", True), ("x", False)])
def test_the_real_prometheus_rule_crd_matches_a_pattern_with_a_flag_group(strategy, valid):
    # ^(?i)(abort|warn)?$: Go's (?i) in the middle, which Python refuses as such.
    group = {**PROMETHEUS_RULE["spec"]["groups"][0], "partial_response_strategy": strategy}
    assert (validate(changed(PROMETHEUS_RULE, "spec.groups", [group])) == []) == valid


@pytest.mark.parametrize(
    ("pattern", "matches", "does_not"),
    [
        ("^a(b(?i)c)d$", ["abCd"], ["abcD", "Abcd"]),  # (?i) ends with its group
        ("^(?i)a(?-i)b$", ["Ab"], ["AB"]),
        ("^[(?i)]x$", ["(x", "ix"], ["Ix"]),  # in a class, only characters
        (r"^\(?i\)$", ["i)", "(i)"], ["I)"]),  # escaped: an optional "("
    ],
)
def test_go_regex_ends_a_flag_group_with_the_group_it_is_in(pattern, matches, does_not):
    compiled = go_regex(pattern)
    expected = [True] * len(matches) + [False] * len(does_not)
    assert [bool(compiled.search(t)) for t in matches + does_not] == expected


def test_go_regex_refuses_the_flags_it_does_not_port():
    with pytest.raises(NotImplementedError, match=r"\(\?m\)"):
        go_regex("(?m)^a$")


def test_the_real_gateway_crd_checks_addresses_and_listener_names():
    listener = {"name": "tls", "port": 443, "protocol": "TLS", "tls": {"mode": "Passthrough"}}
    gateway = {
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "Gateway",
        "metadata": {"name": "cache", "namespace": "dtr"},
        "spec": {"gatewayClassName": "envoy", "listeners": [listener]},
    }
    assert validate(gateway) == []
    assert validate(changed(gateway, "spec.listeners", [listener, listener])) == [
        'spec.listeners[1]: Duplicate value: {"name": "tls"}'
    ]
    bad_address = changed(gateway, "spec.addresses", [{"type": "IPAddress", "value": "cache"}])
    assert [e.split(":")[0] for e in validate(bad_address)] == ["spec.addresses[0]"]


def test_the_real_tls_route_crd():
    route = {
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "TLSRoute",
        "metadata": {"name": "cache", "namespace": "dtr"},
        "spec": {
            "parentRefs": [{"name": "gateway", "sectionName": "tls"}],
            "hostnames": ["cache.example.com"],
            "rules": [{"backendRefs": [{"name": "dtr-cache", "port": 443}]}],
        },
    }
    assert validate(route) == []
    assert validate(changed(route, "spec.hostnames", ["Cache"])) != []
    assert validate(changed(route, "spec.tls", {})) == ['unknown field "spec.tls"']


def test_a_kind_without_a_vendored_crd_is_refused():
    obj = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}}
    assert crd_for(obj) is None
    assert validate(obj) == [
        "kind: no CRD vendored in tests/render/crds/ for 'Widget' in 'example.com'"
    ]
    istio = {**obj, "apiVersion": "networking.istio.io/v1", "kind": "Gateway"}
    assert validate(istio) == [
        "kind: no CRD vendored in tests/render/crds/ for 'Gateway' in 'networking.istio.io'"
    ]
    assert crd_for({**CERTIFICATE, "apiVersion": "cert-manager.io/v1alpha2"}) is CRDS["Certificate"]
    assert crd_for({**CERTIFICATE, "apiVersion": "example.com/v1"}) is None
