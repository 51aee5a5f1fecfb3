"""components.inputs.pod_scheduling: the pod's affinity, tolerations and nodeSelector are held to the
Kubernetes API server's schema and validation rules.

Most cases are ported from Kubernetes' own tests (kubernetes/kubernetes at
000f26050b9be6fb3d79fae95e06b47fc96128cd): the pod specs of TestValidatePodSpec and TestValidatePod
in pkg/apis/core/validation/validation_test.go, and TestIsLabelKey / TestIsLabelValue in
staging/src/k8s.io/apimachinery/pkg/api/validate/content/kube_test.go. Those keep their Go names;
the others are this module's own (wrong types, unknown fields, nulls, normalisation).
"""

from __future__ import annotations

import copy
import json
from importlib.metadata import version
from pathlib import Path
from typing import Any

# In the dev lock, which make test installs (as every test's imports).
import kubernetes_validate
import pytest

from components.inputs import pod_scheduling
from components.inputs.pod_scheduling import check_affinity, check_node_selector, check_tolerations

REQ = "requiredDuringSchedulingIgnoredDuringExecution"
PREF = "preferredDuringSchedulingIgnoredDuringExecution"


def node_required(*expressions, fields=()):
    term = {}
    if expressions:
        term["matchExpressions"] = list(expressions)
    if fields:
        term["matchFields"] = list(fields)
    return {"nodeAffinity": {REQ: {"nodeSelectorTerms": [term]}}}


def node_preferred(weight, *expressions):
    return {
        "nodeAffinity": {
            PREF: [{"weight": weight, "preference": {"matchExpressions": list(expressions)}}]
        }
    }


def req(key, operator=None, values=None):
    out = {"key": key}
    if operator is not None:
        out["operator"] = operator
    if values is not None:
        out["values"] = values
    return out


def pod_term(**fields):
    term = {
        "labelSelector": {"matchExpressions": [req("key", "NotIn", ["value1", "value2"])]},
        "topologyKey": "k8s.io/zone",
    }
    term.update(fields)
    return {k: v for k, v in term.items() if v is not None}


def pod_affinity(kind, hard, term):
    """`kind` podAffinity or podAntiAffinity; a hard (required) or soft (weight 10) term."""
    if hard:
        return {kind: {REQ: [term]}}
    return {kind: {PREF: [{"weight": 10, "podAffinityTerm": term}]}}


KINDS = [
    ("soft pod affinity", "podAffinity", False),
    ("hard pod affinity", "podAffinity", True),
    ("soft pod anti-affinity", "podAntiAffinity", False),
    ("hard pod anti-affinity", "podAntiAffinity", True),
]


def term_path(kind, hard):
    return f"{kind}.{REQ}[0]" if hard else f"{kind}.{PREF}[0].podAffinityTerm"


# --- Affinity: valid ---------------------------------------------------------------------------

POPULATE_AFFINITY = {
    "nodeAffinity": {
        REQ: {
            "nodeSelectorTerms": [
                {
                    "matchExpressions": [req("key2", "In", ["value1", "value2"])],
                    "matchFields": [req("metadata.name", "In", ["host1"])],
                }
            ]
        },
        PREF: [{"weight": 10, "preference": {"matchExpressions": [req("foo", "In", ["bar"])]}}],
    }
}

VALID_AFFINITIES = {
    # TestValidatePodSpec
    "populate Affinity": POPULATE_AFFINITY,
    # TestValidatePod
    "serialized node affinity requirements": POPULATE_AFFINITY,
    "serialized node affinity requirements, II": {
        "nodeAffinity": {
            REQ: {"nodeSelectorTerms": [{"matchExpressions": []}]},
            PREF: [{"weight": 10, "preference": {"matchExpressions": []}}],
        }
    },
    "serialized pod affinity in affinity requirements in annotations": {
        "podAffinity": {
            REQ: [
                {
                    "labelSelector": {
                        "matchExpressions": [req("key2", "In", ["value1", "value2"])]
                    },
                    "topologyKey": "zone",
                    "namespaces": ["ns"],
                    "namespaceSelector": {
                        "matchExpressions": [req("key", "In", ["value1", "value2"])]
                    },
                }
            ],
            PREF: [
                {
                    "weight": 10,
                    "podAffinityTerm": {
                        "labelSelector": {
                            "matchExpressions": [req("key2", "NotIn", ["value1", "value2"])]
                        },
                        "namespaces": ["ns"],
                        "topologyKey": "region",
                    },
                }
            ],
        }
    },
    "serialized pod anti affinity with different Label Operators in affinity requirements in "
    "annotations": {
        "podAntiAffinity": {
            REQ: [
                {
                    "labelSelector": {"matchExpressions": [req("key2", "Exists")]},
                    "topologyKey": "zone",
                    "namespaces": ["ns"],
                }
            ],
            PREF: [
                {
                    "weight": 10,
                    "podAffinityTerm": {
                        "labelSelector": {"matchExpressions": [req("key2", "DoesNotExist")]},
                        "namespaces": ["ns"],
                        "topologyKey": "region",
                    },
                }
            ],
        }
    },
    # In Go the selector also holds `key2 In [value1]`, the expression the API server derives
    # from matchLabelKeys when it creates the pod; a user writes the term without it.
    **{
        f"MatchLabelKeys/MismatchLabelKeys in {'required' if hard else 'preferred'} "
        f"{'PodAffinity' if kind == 'podAffinity' else 'PodAntiAffinity'}": pod_affinity(
            kind,
            hard,
            pod_term(
                labelSelector={
                    "matchExpressions": [
                        req("key", "NotIn", ["value1", "value2"]),
                        req("key3", "NotIn", ["value1"]),
                    ]
                },
                matchLabelKeys=["key2"],
                mismatchLabelKeys=["key3"],
            ),
        )
        for _, kind, hard in KINDS
    },
    "LabelSelector can have the same key as MismatchLabelKeys": pod_affinity(
        "podAffinity",
        True,
        pod_term(
            labelSelector={
                "matchExpressions": [
                    req("key", "NotIn", ["value1", "value2"]),
                    req("key2", "In", ["value1"]),
                    req("key2", "NotIn", ["value1"]),
                ]
            },
            mismatchLabelKeys=["key2"],
        ),
    ),
    # This module's own.
    "empty affinity": {},
    "empty node affinity": {"nodeAffinity": {}},
    "Gt and Lt with one integer each": node_required(
        req("cpu-count", "Gt", ["4"]), req("generation", "Lt", ["12"])
    ),
    "Gt with a very large integer in a preferred term": node_preferred(
        1, req("n", "Gt", [str(2**63 - 1)])
    ),
    "weight 100 with NotIn and DoesNotExist": node_preferred(
        100, req("kubernetes.io/arch", "NotIn", ["s390x"]), req("spot", "DoesNotExist")
    ),
    "anti-affinity spreading replicas over hosts": pod_affinity(
        "podAntiAffinity",
        False,
        {
            "labelSelector": {"matchLabels": {"app.kubernetes.io/name": "msr-cache"}},
            "topologyKey": "kubernetes.io/hostname",
            "matchLabelKeys": ["pod-template-hash"],
        },
    ),
    "matchFields NotIn a node name": node_required(
        fields=[req("metadata.name", "NotIn", ["node-1.example.com"])]
    ),
    "namespaceSelector {} selects every namespace": pod_affinity(
        "podAffinity", True, pod_term(namespaceSelector={})
    ),
    "label value of 63 characters and an empty one": node_required(
        req("foo", "In", ["a" * 63, ""])
    ),
}


@pytest.mark.parametrize("affinity", VALID_AFFINITIES.values(), ids=VALID_AFFINITIES.keys())
def test_valid_affinity(affinity):
    assert check_affinity(affinity) == affinity


def test_affinity_is_a_normalised_copy():
    given = {
        "nodeAffinity": {
            REQ: None,
            PREF: (
                {"weight": 10.0, "preference": {"matchExpressions": (req("a", "In", ("b",)),)}},
            ),
        },
        "podAffinity": None,
    }
    before = copy.deepcopy(given)
    assert check_affinity(given) == {
        "nodeAffinity": {
            PREF: [{"weight": 10, "preference": {"matchExpressions": [req("a", "In", ["b"])]}}]
        }
    }
    assert given == before
    result = check_affinity(POPULATE_AFFINITY)
    assert result is not POPULATE_AFFINITY
    result["nodeAffinity"][PREF][0]["weight"] = 99
    assert POPULATE_AFFINITY["nodeAffinity"][PREF][0]["weight"] == 10


# --- Affinity: invalid -------------------------------------------------------------------------

NA_REQ = f"nodeAffinity.{REQ}.nodeSelectorTerms[0]"
NA_PREF = f"nodeAffinity.{PREF}[0]"

INVALID_AFFINITIES = {
    # TestValidatePod errorCases
    "invalid node selector requirement in node affinity, operator can't be null": (
        node_required(req("key1")),
        f'{NA_REQ}.matchExpressions[0]: missing required field "operator"',
    ),
    "invalid node selector requirement in node affinity, key is invalid": (
        node_required(req("invalid key ___@#", "Exists")),
        f'{NA_REQ}.matchExpressions[0].key: "invalid key ___@#" is not a valid label key',
    ),
    "invalid node field selector requirement in node affinity, more values for field selector": (
        node_required(fields=[req("metadata.name", "In", ["host1", "host2"])]),
        f"{NA_REQ}.matchFields[0].values: must hold exactly one value",
    ),
    "invalid node field selector requirement in node affinity, invalid operator": (
        node_required(fields=[req("metadata.name", "Exists")]),
        f'{NA_REQ}.matchFields[0].operator: "Exists" is not a valid operator',
    ),
    "invalid node field selector requirement in node affinity, invalid key": (
        node_required(fields=[req("metadata.namespace", "In", ["ns1"])]),
        f'{NA_REQ}.matchFields[0].key: "metadata.namespace" is not a valid field selector key',
    ),
    "invalid preferredSchedulingTerm in node affinity, weight should be in range 1-100": (
        node_preferred(199, req("foo", "In", ["bar"])),
        f"{NA_PREF}.weight: must be in the range 1-100, got 199",
    ),
    "invalid requiredDuringSchedulingIgnoredDuringExecution node selector, nodeSelectorTerms "
    "must have at least one term": (
        {"nodeAffinity": {REQ: {"nodeSelectorTerms": []}}},
        f"nodeAffinity.{REQ}.nodeSelectorTerms: must have at least one node selector term",
    ),
    "invalid weight in preferredDuringSchedulingIgnoredDuringExecution in pod affinity "
    "annotations, weight should be in range 1-100": (
        {
            "podAffinity": {
                PREF: [
                    {
                        "weight": 109,
                        "podAffinityTerm": pod_term(namespaces=["ns"], topologyKey="region"),
                    }
                ]
            }
        },
        f"podAffinity.{PREF}[0].weight: must be in the range 1-100, got 109",
    ),
    "invalid labelSelector in preferredDuringSchedulingIgnoredDuringExecution in podaffinity "
    "annotations, values should be empty if the operator is Exists": (
        pod_affinity(
            "podAntiAffinity",
            False,
            pod_term(
                labelSelector={"matchExpressions": [req("key2", "Exists", ["value1", "value2"])]},
                namespaces=["ns"],
                topologyKey="region",
            ),
        ),
        f"podAntiAffinity.{PREF}[0].podAffinityTerm.labelSelector.matchExpressions[0].values: "
        "must be empty when operator is Exists",
    ),
    "invalid namespaceSelector in preferredDuringSchedulingIgnoredDuringExecution in podaffinity, "
    "In operator must include Values": (
        pod_affinity(
            "podAntiAffinity",
            False,
            {
                "namespaceSelector": {"matchExpressions": [req("key2", "In")]},
                "namespaces": ["ns"],
                "topologyKey": "region",
            },
        ),
        f"podAntiAffinity.{PREF}[0].podAffinityTerm.namespaceSelector.matchExpressions[0].values: "
        "must be non-empty when operator is In",
    ),
    "invalid namespaceSelector in preferredDuringSchedulingIgnoredDuringExecution in podaffinity, "
    "Exists operator can not have values": (
        pod_affinity(
            "podAntiAffinity",
            False,
            {
                "namespaceSelector": {
                    "matchExpressions": [req("key2", "Exists", ["value1", "value2"])]
                },
                "namespaces": ["ns"],
                "topologyKey": "region",
            },
        ),
        f"podAntiAffinity.{PREF}[0].podAffinityTerm.namespaceSelector.matchExpressions[0].values: "
        "must be empty when operator is Exists",
    ),
    "invalid name space in preferredDuringSchedulingIgnoredDuringExecution in podaffinity "
    "annotations, namespace should be valid": (
        pod_affinity(
            "podAffinity",
            False,
            pod_term(
                labelSelector={"matchExpressions": [req("key2", "Exists")]},
                namespaces=["INVALID_NAMESPACE"],
                topologyKey="region",
            ),
        ),
        f'podAffinity.{PREF}[0].podAffinityTerm.namespaces[0]: "INVALID_NAMESPACE" is not a '
        "namespace name",
    ),
    # Go leaves the topology key unset: JSON without it misses a required field...
    **{
        f"invalid {name}, empty topologyKey is not allowed for {name}": (
            pod_affinity(kind, hard, pod_term(topologyKey=None, namespaces=["ns"])),
            f'{term_path(kind, hard)}: missing required field "topologyKey"',
        )
        for name, kind, hard in KINDS
    },
    # ...and with it empty, the API server's rule speaks.
    **{
        f"invalid {name}, topologyKey given as an empty string": (
            pod_affinity(kind, hard, pod_term(topologyKey="")),
            f"{term_path(kind, hard)}.topologyKey: can not be empty",
        )
        for name, kind, hard in KINDS
    },
    **{
        f"invalid {name}, key in {field[0].upper() + field[1:]} isn't correctly defined": (
            pod_affinity(kind, hard, pod_term(**{field: ["/simple"]})),
            f'{term_path(kind, hard)}.{field}[0]: "/simple" is not a valid label key: a '
            "qualified name",
        )
        for name, kind, hard in KINDS
        for field in ("matchLabelKeys", "mismatchLabelKeys")
    },
    # In Go the duplicate is the `key In [value1]` expression derived from matchLabelKeys at pod
    # creation; a Deployment's template holds what the user wrote, so the key in the selector is.
    **{
        f"invalid {name}, key exists in both matchLabelKeys and labelSelector": (
            pod_affinity(
                kind,
                hard,
                pod_term(
                    labelSelector={"matchExpressions": [req("key", "NotIn", ["value2"])]},
                    matchLabelKeys=["key"],
                ),
            ),
            f'{term_path(kind, hard)}.matchLabelKeys[0]: "key" exists in both matchLabelKeys '
            "and labelSelector",
        )
        for name, kind, hard in KINDS
    },
    **{
        f"invalid {name}, key exists in both MatchLabelKeys and MismatchLabelKeys": (
            pod_affinity(
                kind, hard, pod_term(matchLabelKeys=["samekey"], mismatchLabelKeys=["samekey"])
            ),
            f'{term_path(kind, hard)}.matchLabelKeys[0]: "samekey" exists in both '
            "matchLabelKeys and mismatchLabelKeys",
        )
        for name, kind, hard in KINDS
    },
    "invalid required node affinity, value of NodeSelectorRequirement should be a valid label "
    "value": (
        node_required(req("foo", "In", ["-1"])),
        f'{NA_REQ}.matchExpressions[0].values[0]: "-1" is not a valid label value',
    ),
    # This module's own: the schema.
    "nodeAffinity is a string": (
        {"nodeAffinity": "yes please"},
        "nodeAffinity: expected an object as in a pod spec (",
    ),
    "affinity is a list": ([POPULATE_AFFINITY], "expected an object as in a pod spec ("),
    "affinity is None": (None, "got null"),
    "unknown field at the top": ({"nodeAfinity": {}}, 'unknown field "nodeAfinity"; accepted:'),
    "unknown field in a node selector requirement": (
        node_required({"key": "a", "operator": "Exists", "value": "b"}),
        f'{NA_REQ}.matchExpressions[0]: unknown field "value"',
    ),
    "unknown field in a pod affinity term": (
        pod_affinity("podAffinity", True, pod_term(topologykey="zone")),
        f'podAffinity.{REQ}[0]: unknown field "topologykey"',
    ),
    "requiredDuringSchedulingRequiredDuringExecution does not exist": (
        {"nodeAffinity": {"requiredDuringSchedulingRequiredDuringExecution": {}}},
        'nodeAffinity: unknown field "requiredDuringSchedulingRequiredDuringExecution"',
    ),
    "nodeSelectorTerms missing": (
        {"nodeAffinity": {REQ: {}}},
        f'nodeAffinity.{REQ}: missing required field "nodeSelectorTerms"',
    ),
    "nodeSelectorTerms is an object": (
        {"nodeAffinity": {REQ: {"nodeSelectorTerms": {"matchExpressions": []}}}},
        f"nodeAffinity.{REQ}.nodeSelectorTerms: expected a list of NodeSelectorTerm objects",
    ),
    "weight is a string": (
        node_preferred("10"),
        f'{NA_PREF}.weight: expected an integer, got "10"',
    ),
    "weight is a boolean": (node_preferred(True), f"{NA_PREF}.weight: expected an integer"),
    "weight is a fraction": (node_preferred(1.5), f"{NA_PREF}.weight: expected an integer"),
    "weight missing": (
        {"nodeAffinity": {PREF: [{"preference": {}}]}},
        f'{NA_PREF}: missing required field "weight"',
    ),
    "values is a string": (
        node_required(req("a", "In", "b")),
        f'{NA_REQ}.matchExpressions[0].values: expected a list of strings, got "b"',
    ),
    "a value is a number": (
        node_required(req("a", "In", [1])),
        f"{NA_REQ}.matchExpressions[0].values[0]: expected a string, got 1",
    ),
    "a matchLabels value is a number": (
        pod_affinity("podAffinity", True, pod_term(labelSelector={"matchLabels": {"app": 5}})),
        f"podAffinity.{REQ}[0].labelSelector.matchLabels.app: expected a string, got 5",
    ),
    "a matchLabels value is None": (
        pod_affinity("podAffinity", True, pod_term(labelSelector={"matchLabels": {"app": None}})),
        f"podAffinity.{REQ}[0].labelSelector.matchLabels.app: expected a string, got null",
    ),
    "a list item is None": (
        {"nodeAffinity": {REQ: {"nodeSelectorTerms": [None]}}},
        f"nodeAffinity.{REQ}.nodeSelectorTerms[0]: expected a value, got null",
    ),
    "a key is not a string": ({1: {}}, "keys must be strings, got 1"),
    # This module's own: the API server's rules.
    "node selector operator not supported": (
        node_required(req("a", "Equals", ["b"])),
        f'{NA_REQ}.matchExpressions[0].operator: "Equals" is not a valid operator; accepted: In,',
    ),
    "In without values": (
        node_required(req("a", "In", [])),
        f"{NA_REQ}.matchExpressions[0].values: must be non-empty when operator is In",
    ),
    "DoesNotExist with values": (
        node_preferred(5, req("a", "DoesNotExist", ["b"])),
        f"{NA_PREF}.preference.matchExpressions[0].values: must be empty when operator is "
        "DoesNotExist",
    ),
    "Gt with two values": (
        node_required(req("a", "Gt", ["1", "2"])),
        f"{NA_REQ}.matchExpressions[0].values: must hold exactly one integer",
    ),
    "Lt without values": (
        node_required(req("a", "Lt")),
        f"{NA_REQ}.matchExpressions[0].values: must hold exactly one integer",
    ),
    "Gt with a word (the scheduler could not parse it)": (
        node_preferred(5, req("a", "Gt", ["ten"])),
        f"{NA_PREF}.preference.matchExpressions[0].values[0]: must be an integer when operator "
        'is Gt, got "ten"',
    ),
    "Lt beyond 64 bits": (
        node_required(req("a", "Lt", [str(2**63)])),
        f"{NA_REQ}.matchExpressions[0].values[0]: must be an integer",
    ),
    "preferred term with a value that is no label value (the scheduler refuses it)": (
        node_preferred(5, req("a", "In", ["a b"])),
        f'{NA_PREF}.preference.matchExpressions[0].values[0]: "a b" is not a valid label value',
    ),
    "label value of 64 characters": (
        node_required(req("a", "In", ["a" * 64])),
        f"{NA_REQ}.matchExpressions[0].values[0]: "
        + '"'
        + "a" * 56
        + "... is not a valid label value: "
        "a label value: empty, or at most 63",
    ),
    "node name in matchFields is no DNS subdomain": (
        node_required(fields=[req("metadata.name", "In", ["Node_1"])]),
        f'{NA_REQ}.matchFields[0].values[0]: "Node_1" is not a node name',
    ),
    "label selector operator Gt": (
        pod_affinity(
            "podAffinity",
            True,
            pod_term(labelSelector={"matchExpressions": [req("a", "Gt", ["1"])]}),
        ),
        f'podAffinity.{REQ}[0].labelSelector.matchExpressions[0].operator: "Gt" is not a valid '
        "operator; accepted: In, NotIn, Exists, DoesNotExist",
    ),
    "label selector value is no label value": (
        pod_affinity(
            "podAntiAffinity",
            True,
            pod_term(labelSelector={"matchExpressions": [req("a", "In", ["-x-"])]}),
        ),
        f'podAntiAffinity.{REQ}[0].labelSelector.matchExpressions[0].values[0]: "-x-" is not a '
        "valid label value",
    ),
    "matchLabels key with two slashes": (
        pod_affinity("podAffinity", True, pod_term(labelSelector={"matchLabels": {"a/b/c": "x"}})),
        f'podAffinity.{REQ}[0].labelSelector.matchLabels["a/b/c"]: "a/b/c" is not a valid label key',
    ),
    "matchLabelKeys without labelSelector": (
        pod_affinity("podAffinity", True, pod_term(labelSelector=None, matchLabelKeys=["a"])),
        f"podAffinity.{REQ}[0].matchLabelKeys: must not be set when labelSelector is not set",
    ),
    "matchLabelKeys key also in matchLabels": (
        pod_affinity(
            "podAntiAffinity",
            False,
            pod_term(labelSelector={"matchLabels": {"app": "x"}}, matchLabelKeys=["app"]),
        ),
        f'podAntiAffinity.{PREF}[0].podAffinityTerm.matchLabelKeys[0]: "app" exists in both '
        "matchLabelKeys and labelSelector",
    ),
    "topologyKey is no label key": (
        pod_affinity("podAffinity", True, pod_term(topologyKey="Example.com/zone")),
        f'podAffinity.{REQ}[0].topologyKey: "Example.com/zone" is not a valid label key: a '
        "qualified name",
    ),
    "namespace longer than 63 characters": (
        pod_affinity("podAffinity", True, pod_term(namespaces=["n" * 64])),
        f"podAffinity.{REQ}[0].namespaces[0]:",
    ),
}


@pytest.mark.parametrize(
    ("affinity", "message"), INVALID_AFFINITIES.values(), ids=INVALID_AFFINITIES.keys()
)
def test_invalid_affinity(affinity, message):
    with pytest.raises(ValueError) as caught:
        check_affinity(affinity)
    text = str(caught.value)
    assert message in text
    assert "\n" not in text
    assert len(text) < 400


# --- Tolerations -------------------------------------------------------------------------------

VALID_TOLERATIONS = {
    # TestValidatePod successCases
    "populate forgiveness tolerations with exists operator in annotations.": {
        "key": "foo",
        "operator": "Exists",
        "value": "",
        "effect": "NoExecute",
        "tolerationSeconds": 60,
    },
    "populate forgiveness tolerations with equal operator in annotations.": {
        "key": "foo",
        "operator": "Equal",
        "value": "bar",
        "effect": "NoExecute",
        "tolerationSeconds": 60,
    },
    "populate tolerations equal operator in annotations.": {
        "key": "foo",
        "operator": "Equal",
        "value": "bar",
        "effect": "NoSchedule",
    },
    "empty key with Exists operator is OK for toleration, empty toleration key means match all "
    "taint keys.": {"operator": "Exists", "effect": "NoSchedule"},
    "empty operator is OK for toleration, defaults to Equal.": {
        "key": "foo",
        "value": "bar",
        "effect": "NoSchedule",
    },
    "empty effect is OK for toleration, empty toleration effect means match all taint effects.": {
        "key": "foo",
        "operator": "Equal",
        "value": "bar",
    },
    "negative tolerationSeconds is OK for toleration.": {
        "key": "node.kubernetes.io/not-ready",
        "operator": "Exists",
        "effect": "NoExecute",
        "tolerationSeconds": -2,
    },
    # This module's own.
    "tolerate everything": {"operator": "Exists"},
    "PreferNoSchedule with an empty value": {
        "key": "dedicated",
        "value": "",
        "effect": "PreferNoSchedule",
    },
    "tolerationSeconds 0": {
        "key": "node.kubernetes.io/unreachable",
        "operator": "Exists",
        "effect": "NoExecute",
        "tolerationSeconds": 0,
    },
}


@pytest.mark.parametrize("toleration", VALID_TOLERATIONS.values(), ids=VALID_TOLERATIONS.keys())
def test_valid_toleration(toleration):
    assert check_tolerations([toleration]) == (toleration,)


def test_tolerations_are_normalised_copies():
    given = (
        {"key": "a", "operator": "Exists", "value": None, "effect": "NoExecute"},
        {"key": "b", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 30.0},
    )
    result = check_tolerations(given)
    assert result == (
        {"key": "a", "operator": "Exists", "effect": "NoExecute"},
        {"key": "b", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 30},
    )
    assert type(result[1]["tolerationSeconds"]) is int
    assert result[0] is not given[0]
    assert check_tolerations([]) == ()


INVALID_TOLERATIONS = {
    # TestValidatePod errorCases
    "invalid toleration key": (
        {"key": "nospecialchars^=@", "operator": "Equal", "value": "bar", "effect": "NoSchedule"},
        '[0].key: "nospecialchars^=@" is not a valid label key',
    ),
    "invalid toleration operator": (
        {"key": "foo", "operator": "In", "value": "bar", "effect": "NoSchedule"},
        '[0].operator: "In" is not supported; accepted: Equal (the default), Exists',
    ),
    # Go reports this one at the operator; the value is what is wrong.
    'value must be empty when `operator` is "Exists"': (
        {"key": "foo", "operator": "Exists", "value": "bar", "effect": "NoSchedule"},
        '[0].value: must be empty when operator is Exists, got "bar"',
    ),
    'operator must be "Exists" when `key` is empty': (
        {"operator": "Equal", "value": "bar", "effect": "NoSchedule"},
        "[0].operator: must be Exists when key is empty",
    ),
    'effect must be "NoExecute" when `TolerationSeconds` is set': (
        {
            "key": "node.kubernetes.io/not-ready",
            "operator": "Exists",
            "effect": "NoSchedule",
            "tolerationSeconds": 20,
        },
        '[0].effect: must be NoExecute when tolerationSeconds is set, got "NoSchedule"',
    ),
    # This module's own.
    "empty toleration": ({}, "[0].operator: must be Exists when key is empty"),
    "tolerationSeconds without an effect": (
        {"key": "a", "operator": "Exists", "tolerationSeconds": 5},
        '[0].effect: must be NoExecute when tolerationSeconds is set, got ""',
    ),
    "effect not supported": (
        {"key": "a", "operator": "Exists", "effect": "NoScheduleNoAdmit"},
        '[0].effect: "NoScheduleNoAdmit" is not supported; accepted: NoSchedule, '
        "PreferNoSchedule, NoExecute",
    ),
    "Lt is behind an alpha feature gate": (
        {"key": "a", "operator": "Lt", "value": "5", "effect": "NoSchedule"},
        '[0].operator: "Lt" is not supported',
    ),
    "value is no label value": (
        {"key": "a", "operator": "Equal", "value": "b c"},
        '[0].value: "b c" is not a valid label value',
    ),
    "unknown field": (
        {"key": "a", "operator": "Exists", "values": []},
        '[0]: unknown field "values"',
    ),
    "key is a number": ({"key": 1, "operator": "Exists"}, "[0].key: expected a string, got 1"),
    "tolerationSeconds is a string": (
        {"key": "a", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": "60"},
        '[0].tolerationSeconds: expected an integer, got "60"',
    ),
    "tolerationSeconds beyond 64 bits": (
        {"key": "a", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 2**63},
        "[0].tolerationSeconds: must fit in 64 bits",
    ),
    "a toleration is a string": (
        "key=value:NoSchedule",
        "[0]: expected an object as in a pod spec",
    ),
}


@pytest.mark.parametrize(
    ("toleration", "message"), INVALID_TOLERATIONS.values(), ids=INVALID_TOLERATIONS.keys()
)
def test_invalid_toleration(toleration, message):
    valid = {"operator": "Exists"}
    with pytest.raises(ValueError) as caught:
        check_tolerations([toleration, valid])
    assert message in str(caught.value)
    with pytest.raises(ValueError) as caught:
        check_tolerations([valid, toleration])
    assert message.replace("[0]", "[1]", 1) in str(caught.value)


def _repr_id(value: Any) -> str:
    """A test id as repr spells the value, a set's items sorted: repr alone orders them by hash,
    which differs between pytest-xdist's workers, and they must collect the same tests."""
    if isinstance(value, set):
        return "{" + ", ".join(sorted(map(repr, value))) + "}"
    return repr(value)


@pytest.mark.parametrize(
    "value", ["key=value:NoSchedule", {"key": "a"}, 5, None, {"a", "b"}], ids=_repr_id
)
def test_tolerations_must_be_a_list(value):
    with pytest.raises(ValueError, match=r"^expected a list of tolerations as in a pod spec"):
        check_tolerations(value)


# --- nodeSelector, label keys and values -------------------------------------------------------

# TestIsLabelKey / TestIsLabelValue (apimachinery content/kube_test.go).
LABEL_KEYS_OK = [
    "simple",
    "now-with-dashes",
    "1-starts-with-num",
    "1234",
    "simple/simple",
    "now-with-dashes/simple",
    "now-with-dashes/now-with-dashes",
    "now.with.dots/simple",
    "now-with.dashes-and.dots/simple",
    "1-num.2-num/3-num",
    "1234/5678",
    "1.2.3.4/5678",
    "Uppercase_Is_OK_123",
    "example.com/Uppercase_Is_OK_123",
    "requests.storage-foo",
    "a" * 63,
    "a" * 253 + "/" + "b" * 63,
]
LABEL_KEYS_BAD = [
    "nospecialchars%^=@",
    "cantendwithadash-",
    "-cantstartwithadash-",
    "only/one/slash",
    "Example.com/abc",
    "example_com/abc",
    "example.com/",
    "/simple",
    "a" * 64,
    "a" * 254 + "/abc",
    # This module's own: a prefix is a DNS subdomain, not any run of dots.
    "a..b/c",
    "",
]
LABEL_VALUES_OK = ["simple", "now-with-dashes", "1-starts-with-num", "end-with-num-1", "1234"]
LABEL_VALUES_OK += ["a" * 63, ""]
LABEL_VALUES_BAD = [
    "nospecialchars%^=@",
    "Tama-nui-te-rā.is.Māori.sun",
    "\\backslashes\\are\\bad",
    "-starts-with-dash",
    "ends-with-dash-",
    ".starts.with.dot",
    "ends.with.dot.",
    "a" * 64,
    "trailing-newline\n",
]


@pytest.mark.parametrize("key", LABEL_KEYS_OK)
def test_node_selector_label_key_ok(key):
    assert check_node_selector({key: "value"}) == {key: "value"}


@pytest.mark.parametrize("key", LABEL_KEYS_BAD)
def test_node_selector_label_key_bad(key):
    with pytest.raises(ValueError, match="is not a valid label key"):
        check_node_selector({key: "value"})


@pytest.mark.parametrize("value", LABEL_VALUES_OK)
def test_node_selector_label_value_ok(value):
    assert check_node_selector({"key": value}) == {"key": value}


@pytest.mark.parametrize("value", LABEL_VALUES_BAD)
def test_node_selector_label_value_bad(value):
    with pytest.raises(ValueError) as caught:
        check_node_selector({"kubernetes.io/os": value})
    assert str(caught.value).startswith('["kubernetes.io/os"]: ')
    assert "is not a valid label value" in str(caught.value)


def test_node_selector():
    # TestValidatePod "just about everything"
    assert check_node_selector({"key": "value"}) == {"key": "value"}
    given = {"kubernetes.io/os": "linux", "node-role.kubernetes.io/cache": ""}
    result = check_node_selector(given)
    assert result == given and result is not given
    assert check_node_selector({}) == {}


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("linux", 'expected an object of node label keys to values, got "linux"'),
        (["a=b"], "expected an object of node label keys to values"),
        ({"disktype": 1}, "disktype: expected a string label value, got 1"),
        ({"disktype": None}, "disktype: expected a string label value, got null"),
        ({"disktype": True}, "disktype: expected a string label value, got true"),
        ({1: "a"}, "keys must be strings, got 1"),
        ({"bad key": "x"}, '["bad key"]: "bad key" is not a valid label key'),
    ],
)
def test_node_selector_invalid(value, message):
    with pytest.raises(ValueError) as caught:
        check_node_selector(value)
    assert message in str(caught.value)


# --- The vendored schema -----------------------------------------------------------------------

SCHEMA_FILE = Path(pod_scheduling.__file__).with_name("pod_scheduling.schema.json")


def test_schema_file_names_its_source_and_licence():
    document = json.loads(SCHEMA_FILE.read_text())
    comment = document["$comment"]
    for needle in ("kubernetes-validate 1.37.0", "v1.37.0-local-strict", "Apache-2.0"):
        assert needle in comment
    assert set(document["$defs"]) == {
        f"io.k8s.api.core.v1.{name}"
        for name in [
            "Affinity",
            "NodeAffinity",
            "NodeSelector",
            "NodeSelectorTerm",
            "NodeSelectorRequirement",
            "PreferredSchedulingTerm",
            "PodAffinity",
            "PodAntiAffinity",
            "PodAffinityTerm",
            "WeightedPodAffinityTerm",
            "Toleration",
        ]
    } | {
        "io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector",
        "io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelectorRequirement",
    }
    objects = [d for d in document["$defs"].values() if "properties" in d]
    assert objects and all(d["additionalProperties"] is False for d in objects)
    import jsonschema

    jsonschema.Draft202012Validator.check_schema(document)


def test_schema_file_matches_kubernetes_validate():
    """The definitions are kubernetes-validate's, but for their descriptions."""
    source = (
        Path(kubernetes_validate.__file__).parent
        / "kubernetes-json-schema/v1.37.0-local-strict/_definitions.json"
    )
    assert source.exists(), (
        f"kubernetes-validate {version('kubernetes-validate')} has no v1.37.0 strict schemas: "
        f"vendor {SCHEMA_FILE.name} again from the schemas of the Kubernetes version it ships"
    )

    def strip(node):
        if isinstance(node, dict):
            return {k: strip(v) for k, v in node.items() if k != "description"}
        if isinstance(node, list):
            return [strip(v) for v in node]
        return node

    upstream = json.loads(source.read_text())["$defs"]
    vendored = json.loads(SCHEMA_FILE.read_text())["$defs"]
    assert vendored == {name: strip(upstream[name]) for name in vendored}
