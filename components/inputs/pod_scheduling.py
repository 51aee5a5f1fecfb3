"""Checks of the pod scheduling inputs `affinity`, `tolerations` and `nodeSelector`.

They go verbatim into the Deployment's pod template, so they are checked here, before any resource
is registered, the way the Kubernetes API server checks them:

1. the OpenAPI schema: the strict JSON schema of `io.k8s.api.core.v1.Affinity` and
   `io.k8s.api.core.v1.Toleration` in `pod_scheduling.schema.json` (types, required fields, no
   unknown fields), taken from the kubernetes-validate package (see its `$comment`);
2. the API server's validation rules, which the schema cannot express, ported from Kubernetes'
   `pkg/apis/core/validation/validation.go` (kubernetes/kubernetes at
   000f26050b9be6fb3d79fae95e06b47fc96128cd) and the apimachinery packages it calls; each rule
   below names the Go function it comes from.

Each check returns a normalised copy (plain dicts and lists, fields given as null dropped, whole
floats made integers) or raises `ValueError` with one short line naming the path inside the value.
Pure Python: no Pulumi here, and nothing from `components.inputs.settings` (which imports this module).
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from . import api_rules, go_strconv
from .plain import as_yaml, is_array, is_dict, is_list, is_mapping, is_sequence

if TYPE_CHECKING:
    from jsonschema.exceptions import ValidationError
    from jsonschema.protocols import Validator

__all__ = ["check_affinity", "check_node_selector", "check_tolerations"]

_SCHEMA_FILE = Path(__file__).with_name("pod_scheduling.schema.json")
_DEFS = "#/$defs/"
_AFFINITY = "io.k8s.api.core.v1.Affinity"
_TOLERATION = "io.k8s.api.core.v1.Toleration"

# --- The schema ------------------------------------------------------------------------------


@functools.cache
def _validators() -> tuple[Validator, Validator]:
    """The affinity and the tolerations validators, compiled once (jsonschema is imported late).

    The definitions form a tree, so their local `$ref`s are inlined first: validating then takes
    about 60% of the time it takes with `$ref` lookups.
    """
    from jsonschema.validators import validator_for

    document = json.loads(_SCHEMA_FILE.read_text(encoding="utf-8"))
    defs = document["$defs"]

    def inline(node: Any) -> Any:
        if is_dict(node):
            if "$ref" in node:  # named by a title, for messages
                name = node["$ref"].removeprefix(_DEFS)
                return {**inline(defs[name]), "title": name.rsplit(".", 1)[-1]}
            return {key: inline(item) for key, item in node.items()}
        if is_list(node):
            return [inline(item) for item in node]
        return node

    def compile_(root: Mapping[str, Any]) -> Validator:
        schema = {"$schema": document["$schema"], **inline(root)}
        return validator_for(schema)(schema)

    return (
        compile_({"$ref": _DEFS + _AFFINITY}),
        compile_({"type": "array", "items": {"$ref": _DEFS + _TOLERATION}}),
    )


def _schema_check(validator: Validator, value: Any, root: str) -> None:
    # types-jsonschema leaves best_match's return type out: it is the best error, or None.
    from jsonschema.exceptions import best_match  # pyright: ignore[reportUnknownVariableType]

    error = cast("ValidationError | None", best_match(validator.iter_errors(value)))
    if error is not None:
        raise ValueError(_schema_message(error, root))


def _schema_message(error: Any, root: str) -> str:
    where = _at(error.absolute_path)
    prefix = f"{where}: " if where else ""
    schema, instance = error.schema, error.instance
    if error.validator == "type":
        return f"{prefix}expected {root if not where else _describe(schema)}, got {_show(instance)}"
    if error.validator == "additionalProperties":
        unknown = sorted(set(instance) - set(schema.get("properties", {})), key=str)
        accepted = ", ".join(schema.get("properties", {}))
        return f"{prefix}unknown field {_show(unknown[0])}; accepted: {accepted}"
    if error.validator == "required":
        missing = [name for name in error.validator_value if name not in instance]
        return f"{prefix}missing required field {_show(missing[0])}"
    return f"{prefix}{error.message}"  # pragma: no cover - the schema has no other keywords


def _describe(schema: Mapping[str, Any]) -> str:
    """What a schema accepts, in a few words."""
    types = schema.get("type")
    kind = types[0] if is_list(types) else types
    if kind == "object":
        if "properties" in schema:
            return f"an object as in a pod spec ({', '.join(schema['properties'])})"
        return "an object of label keys to string values"
    if kind == "array":
        title = schema.get("items", {}).get("title")
        return f"a list of {title} objects" if title else "a list of strings"
    return {"string": "a string", "integer": "an integer"}.get(str(kind), str(kind))


# --- Paths and values in messages ------------------------------------------------------------

_FIELD = re.compile(r"[A-Za-z]+")


def _at(parts: Iterable[str | int]) -> str:
    """`nodeAffinity.x.y[0].z` for a path; map keys that are not field names as ['key']."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _FIELD.fullmatch(part):
            out += f".{part}" if out else part
        else:
            out += f"[{as_yaml(part)}]"
    return out


def _show(value: Any, limit: int = 60) -> str:
    text = as_yaml(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _normalise(value: Any, path: tuple[str | int, ...], labels: bool = False) -> Any:
    """A JSON-shaped copy: dicts and lists, fields given as None dropped, whole floats as ints.

    A null field means "not set" to the API server, so it is dropped. A null list item or label
    value would be decoded as "" or {}; nobody means that, so it is refused instead.
    """
    if is_mapping(value):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                where = f"{_at(path)}: " if path else ""
                raise ValueError(f"{where}keys must be strings, got {_show(key)}")
            if item is None:
                if labels:
                    raise ValueError(f"{_at((*path, key))}: expected a string, got null")
                continue
            out[key] = _normalise(item, (*path, key), key == "matchLabels")
        return out
    if is_array(value):
        items: list[Any] = []
        for index, item in enumerate(value):
            if item is None:
                raise ValueError(f"{_at((*path, index))}: expected a value, got null")
            items.append(_normalise(item, (*path, index)))
        return items
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


# --- Names and values (k8s.io/apimachinery) --------------------------------------------------

# The names and values themselves follow apimachinery's rules, ported once in api_rules.


def _check_name(
    rule: Callable[[str], Any], value: str, path: Sequence[str | int], what: str
) -> None:
    """`value` (at `path`) passes an api_rules check, or is refused as not `what`, with its rule."""
    try:
        rule(value)
    except ValueError as err:
        raise ValueError(f"{_at(path)}: {_show(value)} is not {what}: {err}") from None


def _check_label_key(key: str, path: Sequence[str | int]) -> None:
    """unversionedvalidation.ValidateLabelName: the key must be a qualified name."""
    _check_name(api_rules.qualified_name, key, path, "a valid label key")


def _check_label_value(value: str, path: Sequence[str | int]) -> None:
    """validation.IsValidLabelValue: at most 63 characters, empty or alphanumeric at both ends."""
    _check_name(api_rules.label_value, value, path, "a valid label value")


def _check_labels(labels: Mapping[str, str], path: Sequence[str | int]) -> None:
    """unversionedvalidation.ValidateLabels: label keys to label values."""
    for key, value in labels.items():
        _check_label_key(key, (*path, key))
        _check_label_value(value, (*path, key))


def _is_go_int64(text: str) -> bool:
    """strconv.ParseInt(text, 10, 64) succeeds (labels.NewRequirement's reading of Gt/Lt)."""
    try:
        go_strconv.parse_int(text, 10, 64)
    except go_strconv.NumError:
        return False
    return True


def _values(requirement: Mapping[str, Any]) -> list[str]:
    return requirement.get("values", [])


# --- Node affinity (pkg/apis/core/validation/validation.go) ---------------------------------

_NODE_OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt")


def _check_node_selector_requirement(req: Mapping[str, Any], path: tuple[str | int, ...]) -> None:
    """ValidateNodeSelectorRequirement (a `matchExpressions` item of a node selector term).

    The API server checks the values are label values only in required node affinity, and only
    counts Gt/Lt values. The scheduler parses every term with labels.NewRequirement
    (k8s.io/apimachinery/pkg/labels/selector.go), which refuses a value that is not a label value
    and a Gt/Lt value that strconv.ParseInt(v, 10, 64) refuses; one such preferred term makes
    nodeaffinity.NewPreferredSchedulingTerms (k8s.io/component-helpers) fail for the whole list,
    a required one never matches. So every term is held to those rules here.
    """
    operator, values = req["operator"], _values(req)
    if operator in ("Gt", "Lt"):
        if len(values) != 1:
            raise ValueError(
                f"{_at((*path, 'values'))}: must hold exactly one integer when operator is "
                f"{operator}, got {_show(values)}"
            )
        if not _is_go_int64(values[0]):
            raise ValueError(
                f"{_at((*path, 'values', 0))}: must be an integer when operator is {operator}, "
                f"got {_show(values[0])}"
            )
    _check_requirement(req, path, _NODE_OPERATORS)


def _check_requirement(
    req: Mapping[str, Any], path: tuple[str | int, ...], operators: tuple[str, ...]
) -> None:
    """The rules a node selector's and a label selector's requirements share: In and NotIn
    take values, Exists and DoesNotExist none, no operator but `operators`; a label key, and
    label values."""
    operator, values = req["operator"], _values(req)
    if operator in ("In", "NotIn") and not values:
        raise ValueError(f"{_at((*path, 'values'))}: must be non-empty when operator is {operator}")
    if operator in ("Exists", "DoesNotExist") and values:
        raise ValueError(f"{_at((*path, 'values'))}: must be empty when operator is {operator}")
    if operator not in operators:
        raise ValueError(
            f"{_at((*path, 'operator'))}: {_show(operator)} is not a valid operator; "
            f"accepted: {', '.join(operators)}"
        )
    _check_label_key(req["key"], (*path, "key"))
    for index, value in enumerate(values):
        _check_label_value(value, (*path, "values", index))


def _check_node_field_requirement(req: Mapping[str, Any], path: tuple[str | int, ...]) -> None:
    """ValidateNodeFieldSelectorRequirement (a `matchFields` item): metadata.name In/NotIn one
    node name (nodeFieldSelectorValidators: ValidateNodeName, a DNS-1123 subdomain)."""
    operator, values = req["operator"], _values(req)
    if operator not in ("In", "NotIn"):
        raise ValueError(
            f"{_at((*path, 'operator'))}: {_show(operator)} is not a valid operator for a node "
            "field selector; accepted: In, NotIn"
        )
    if len(values) != 1:
        raise ValueError(
            f"{_at((*path, 'values'))}: must hold exactly one value when operator is {operator} "
            f"in a node field selector, got {_show(values)}"
        )
    if req["key"] != "metadata.name":
        raise ValueError(
            f"{_at((*path, 'key'))}: {_show(req['key'])} is not a valid field selector key; "
            "accepted: metadata.name"
        )
    _check_name(api_rules.dns1123_subdomain, values[0], (*path, "values", 0), "a node name")


def _check_node_selector_term(term: Mapping[str, Any], path: tuple[str | int, ...]) -> None:
    """ValidateNodeSelectorTerm."""
    for index, req in enumerate(term.get("matchExpressions", [])):
        _check_node_selector_requirement(req, (*path, "matchExpressions", index))
    for index, req in enumerate(term.get("matchFields", [])):
        _check_node_field_requirement(req, (*path, "matchFields", index))


def _check_weight(weight: int, path: tuple[str | int, ...]) -> None:
    """ValidatePreferredSchedulingTerms / validateWeightedPodAffinityTerms: weight in 1..100."""
    if not 1 <= weight <= 100:
        raise ValueError(f"{_at((*path, 'weight'))}: must be in the range 1-100, got {weight}")


def _check_node_affinity(node: Mapping[str, Any], path: tuple[str | int, ...]) -> None:
    """validateNodeAffinity, ValidateNodeSelector and ValidatePreferredSchedulingTerms."""
    required = node.get("requiredDuringSchedulingIgnoredDuringExecution")
    if required is not None:
        terms_path = (*path, "requiredDuringSchedulingIgnoredDuringExecution", "nodeSelectorTerms")
        if not required["nodeSelectorTerms"]:
            raise ValueError(f"{_at(terms_path)}: must have at least one node selector term")
        for index, term in enumerate(required["nodeSelectorTerms"]):
            _check_node_selector_term(term, (*terms_path, index))
    preferred_path = (*path, "preferredDuringSchedulingIgnoredDuringExecution")
    for index, term in enumerate(node.get("preferredDuringSchedulingIgnoredDuringExecution", [])):
        _check_weight(term["weight"], (*preferred_path, index))
        _check_node_selector_term(term["preference"], (*preferred_path, index, "preference"))


# --- Pod (anti-)affinity ---------------------------------------------------------------------

_SELECTOR_OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist")


def _check_label_selector(selector: Mapping[str, Any], path: tuple[str | int, ...]) -> None:
    """metav1 validation ValidateLabelSelector / ValidateLabelSelectorRequirement, with
    AllowInvalidLabelValueInSelector false (it is only true for objects that already have one)."""
    _check_labels(selector.get("matchLabels", {}), (*path, "matchLabels"))
    for index, req in enumerate(selector.get("matchExpressions", [])):
        _check_requirement(req, (*path, "matchExpressions", index), _SELECTOR_OPERATORS)


def _selector_keys(selector: Mapping[str, Any]) -> set[str]:
    return set(selector.get("matchLabels", {})) | {
        req["key"] for req in selector.get("matchExpressions", [])
    }


def _check_pod_affinity_term(term: Mapping[str, Any], path: tuple[str | int, ...]) -> None:
    """validatePodAffinityTerm: ValidatePodAffinityTermSelector, the namespaces,
    validateMatchLabelKeysAndMismatchLabelKeys and the topology key."""
    selector = term.get("labelSelector")
    for name in ("labelSelector", "namespaceSelector"):
        if name in term:
            _check_label_selector(term[name], (*path, name))
    for index, namespace in enumerate(term.get("namespaces", [])):
        # ValidateNamespaceName is NameIsDNSLabel.
        where = (*path, "namespaces", index)
        _check_name(api_rules.dns1123_label, namespace, where, "a namespace name")
    # validateMatchLabelKeysAndMismatchLabelKeys (and validateLabelKeys).
    match_keys, mismatch_keys = term.get("matchLabelKeys", []), term.get("mismatchLabelKeys", [])
    for name, keys in (("matchLabelKeys", match_keys), ("mismatchLabelKeys", mismatch_keys)):
        if keys and selector is None:
            raise ValueError(f"{_at((*path, name))}: must not be set when labelSelector is not set")
        for index, key in enumerate(keys):
            _check_label_key(key, (*path, name, index))
    # When it creates a Pod (not when it takes the Deployment's template) the API server merges
    # `key In (pod's value)` into labelSelector for each matchLabelKeys key, then this rule
    # refuses a key already in the selector: the Deployment would be taken and its pods refused.
    # The API documents the pair as forbidden, so it is refused here, in the template.
    # (mismatchLabelKeys may repeat a selector key.)
    in_selector = _selector_keys(selector) if selector is not None else set[str]()
    for index, key in enumerate(match_keys):
        for other, keys in (("labelSelector", in_selector), ("mismatchLabelKeys", mismatch_keys)):
            if key in keys:
                raise ValueError(
                    f"{_at((*path, 'matchLabelKeys', index))}: {_show(key)} exists in both "
                    f"matchLabelKeys and {other}"
                )
    topology_key = term["topologyKey"]
    if not topology_key:
        raise ValueError(f"{_at((*path, 'topologyKey'))}: can not be empty")
    _check_label_key(topology_key, (*path, "topologyKey"))


def _check_pod_affinity(affinity: Mapping[str, Any], path: tuple[str | int, ...]) -> None:
    """validatePodAffinity / validatePodAntiAffinity (the same rules): validatePodAffinityTerms
    and validateWeightedPodAffinityTerms."""
    required = "requiredDuringSchedulingIgnoredDuringExecution"
    for index, term in enumerate(affinity.get(required, [])):
        _check_pod_affinity_term(term, (*path, required, index))
    preferred = "preferredDuringSchedulingIgnoredDuringExecution"
    for index, term in enumerate(affinity.get(preferred, [])):
        _check_weight(term["weight"], (*path, preferred, index))
        _check_pod_affinity_term(
            term["podAffinityTerm"], (*path, preferred, index, "podAffinityTerm")
        )


# --- Tolerations -----------------------------------------------------------------------------

_TAINT_EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")


def _check_toleration(toleration: Mapping[str, Any], path: tuple[str | int, ...]) -> None:
    """ValidateTolerations (one item) and validateTaintEffect (allowEmpty: an empty effect means
    every effect)."""
    key = toleration.get("key", "")
    operator = toleration.get("operator", "")  # empty means Equal
    value = toleration.get("value", "")
    effect = toleration.get("effect", "")
    if key:
        _check_label_key(key, (*path, "key"))
    if operator not in ("", "Equal", "Exists"):
        # Lt and Gt exist behind the alpha TaintTolerationComparisonOperators gate (v1.35+), off
        # by default, so a default API server refuses them.
        raise ValueError(
            f"{_at((*path, 'operator'))}: {_show(operator)} is not supported; accepted: Equal "
            "(the default), Exists"
        )
    if not key and operator != "Exists":
        raise ValueError(
            f"{_at((*path, 'operator'))}: must be Exists when key is empty (which means "
            "tolerate every taint)"
        )
    if operator == "Exists":
        if value:
            raise ValueError(
                f"{_at((*path, 'value'))}: must be empty when operator is Exists, got {_show(value)}"
            )
    else:
        _check_label_value(value, (*path, "value"))
    if effect and effect not in _TAINT_EFFECTS:
        raise ValueError(
            f"{_at((*path, 'effect'))}: {_show(effect)} is not supported; accepted: "
            f"{', '.join(_TAINT_EFFECTS)} (or none, for every effect)"
        )
    seconds = toleration.get("tolerationSeconds")
    if seconds is not None:
        # Documented as "ignored" unless the effect is NoExecute, but the API server refuses it.
        if effect != "NoExecute":
            raise ValueError(
                f"{_at((*path, 'effect'))}: must be NoExecute when tolerationSeconds is set, "
                f"got {_show(effect)}"
            )
        if seconds not in go_strconv.int_range(64):
            raise ValueError(f"{_at((*path, 'tolerationSeconds'))}: must fit in 64 bits")


# --- The checks ------------------------------------------------------------------------------

_AFFINITY_ACCEPTED = "an object as in a pod spec (nodeAffinity, podAffinity, podAntiAffinity)"
_TOLERATIONS_ACCEPTED = (
    "a list of tolerations as in a pod spec ({key, operator, value, effect, tolerationSeconds})"
)


def check_affinity(value: Any) -> dict[str, Any]:
    """A pod's `affinity`, as the API server would accept it; returns a normalised copy."""
    if not is_mapping(value):
        raise ValueError(f"expected {_AFFINITY_ACCEPTED}, got {_show(value)}")
    affinity = _normalise(value, ())
    _schema_check(_validators()[0], affinity, _AFFINITY_ACCEPTED)
    if "nodeAffinity" in affinity:
        _check_node_affinity(affinity["nodeAffinity"], ("nodeAffinity",))
    for name in ("podAffinity", "podAntiAffinity"):
        if name in affinity:
            _check_pod_affinity(affinity[name], (name,))
    return affinity


def check_tolerations(value: Any) -> tuple[dict[str, Any], ...]:
    """A pod's `tolerations`, as the API server would accept them; returns normalised copies."""
    if isinstance(value, (str, bytes, Mapping)) or not is_sequence(value):
        raise ValueError(f"expected {_TOLERATIONS_ACCEPTED}, got {_show(value)}")
    tolerations = _normalise(value, ())
    _schema_check(_validators()[1], tolerations, _TOLERATIONS_ACCEPTED)
    for index, toleration in enumerate(tolerations):
        _check_toleration(toleration, (index,))
    return tuple(tolerations)


def check_node_selector(value: Any) -> dict[str, str]:
    """A pod's `nodeSelector`: label keys to label values (ValidatePodSpec calls
    unversionedvalidation.ValidateLabels on it); returns a copy."""
    if not is_mapping(value):
        raise ValueError(f"expected an object of node label keys to values, got {_show(value)}")
    selector: dict[str, str] = {}
    for key, item in value.items():
        if not isinstance(key, str):
            raise ValueError(f"keys must be strings, got {_show(key)}")
        if not isinstance(item, str):
            raise ValueError(f"{_at((key,))}: expected a string label value, got {_show(item)}")
        selector[key] = item
    _check_labels(selector, ())
    return selector
