"""Custom resources held to their CustomResourceDefinition's schema as the Kubernetes API server
holds them, so that what passes here is accepted by a cluster with that CRD under strict field
validation (`kubectl apply`, whose --validate=strict is the default; fieldValidation=Strict).

The schemas are the CRDs' `openAPIV3Schema`, vendored in tests/render/crds/ (see its README). A CRD's
schema is a *structural* OpenAPI v3 schema, not JSON Schema verbatim: what the API server does
with it on a create is ported here from kubernetes/apiextensions-apiserver (at
1aa2717a552ee6ca1e2a18f1f8ffccde981db923) and the kube-openapi validator it calls (at
d427ff9ee9ad05f5da435abbb7c5929cb713ac56), the schema converted once for jsonschema (draft 4,
OpenAPI 3.0's base):

1. Unknown fields (pkg/apiserver/schema/pruning/algorithm.go, called from
   pkg/apiserver/customresource_handler.go unstructuredSchemaCoercer.apply): walking the
   schema's skeleton (`properties`, `items`, `additionalProperties`, never inside allOf, anyOf,
   oneOf or not), a field that is not in `properties` is pruned, unless the node has
   `additionalProperties` (the field is held to it) or `x-kubernetes-preserve-unknown-fields:
   true` (kept, its known properties still walked); at the root apiVersion, kind and metadata are
   skipped. Under strict field validation each pruned field is the error `unknown field "<path>"`.
   Here: every such skeleton node gets `additionalProperties: false`.
2. Nulls and defaults (pkg/apiserver/schema/defaulting/prunenulls.go and algorithm.go): a null
   for a field that is not `nullable` and has no `default` is dropped, then defaults are applied.
   Done here on a copy of the object before validating it.
3. Type meta (pkg/registry/customresource/validator.go ValidateTypeMeta): apiVersion and kind
   must be the CRD's group/version and kind. metadata is ObjectMeta, which the API server checks
   with its own rules, not the CRD's schema: here only an object.
4. The schema (pkg/apiserver/validation/validation.go ConvertJSONSchemaPropsWithPostProcess and
   formats.go, kube-openapi pkg/validation/validate): `x-kubernetes-int-or-string` is the types
   integer and string; `nullable` adds null; a format is kept only where formats.go supports it
   for the node's one type, strings checked as kube-openapi's strfmt checks them and integers
   against the int32/int64 range (validate/values.go IsValueValidAgainstRange, in Kubernetes 1.36
   and later); a whole float is an integer; a pattern is Go's RE2 (`$` ends the text, `\\d` and
   `\\s` are ASCII, a flag group `(?i)` ends with the group it is in).
5. List types (pkg/apiserver/schema/listtype/validation.go): the items of an
   `x-kubernetes-list-type: set` are unique, and those of a `map` unique by their
   `x-kubernetes-list-map-keys`.

Not ported: the CEL rules of `x-kubernetes-validations` (none in the Certificate, ServiceMonitor
and PrometheusRule schemas; Gateway and TLSRoute have some), ObjectMeta's validation, the scale
subresource, `x-kubernetes-embedded-resource` and `additionalProperties: true` (a schema using
either raises NotImplementedError rather than pass unchecked).
"""

from __future__ import annotations

import copy
import datetime
import functools
import ipaddress
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, cast

from jsonschema import Draft4Validator, Draft6Validator, FormatChecker, validators
from jsonschema.exceptions import ValidationError
from jsonschema.protocols import Validator

Schema = dict[str, Any]

CRD_DIR = Path(__file__).resolve().parent / "crds"

# pkg/apiserver/validation/formats.go supportedVersionedFormats (Kubernetes 1.34 and later), with
# the names as go-openapi normalises them (without "-").
STRING_FORMATS = frozenset({
    "bsonobjectid", "uri", "email", "hostname", "ipv4", "ipv6", "cidr", "mac", "uuid", "uuid3",
    "uuid4", "uuid5", "isbn", "isbn10", "isbn13", "creditcard", "ssn", "hexcolor", "rgbcolor",
    "byte", "password", "date", "duration", "datetime", "k8sshortname", "k8slongname",
})  # fmt: skip
_NUMBER_FORMATS = {"integer": {"int32", "int64"}, "number": {"float", "double"}}


# --- Formats, as kube-openapi's strfmt checks them -------------------------------------------

FORMATS = FormatChecker(formats=())
"""The formats checked (others the API server supports are unchecked: tests/render/test_crd_schemas.py
fails when a vendored schema uses one)."""


def _parse_ip(text: str, sloppy: bool) -> bool:
    """Go's net.ParseIP (or k8s.io/utils/net.ParseIPSloppy, leading zeros allowed)."""
    if ":" not in text:
        parts = text.split(".")
        return len(parts) == 4 and all(
            re.fullmatch("[0-9]+", p) and int(p) <= 255 and (sloppy or p == str(int(p)))
            for p in parts
        )
    if "%" in text:  # a zone: not an IP for ParseIP
        return False
    try:
        ipaddress.IPv6Address(text)
    except ValueError:
        return False
    return True


@FORMATS.checks("ipv4")
def _ipv4(value: object) -> bool:
    """strfmt isIPv4: ParseIPSloppy, and a dot in the text."""
    return not isinstance(value, str) or (_parse_ip(value, sloppy=True) and "." in value)


@FORMATS.checks("ipv6")
def _ipv6(value: object) -> bool:
    """govalidator IsIPv6: ParseIP, and a colon in the text."""
    return not isinstance(value, str) or (_parse_ip(value, sloppy=False) and ":" in value)


@FORMATS.checks("datetime")
def _datetime(value: object) -> bool:
    """strfmt IsDateTime: a full-date, "t", then hh:mm:ss[.frac](z|±hh:mm), case-insensitive."""
    if not isinstance(value, str):
        return True
    parts = value.lower().split("t")
    if len(value) < 4 or len(parts) < 2 or not _is_date(parts[0]):
        return False
    match = re.fullmatch(
        r"([0-9]{2}):([0-9]{2}):([0-9]{2})(.[0-9]+)?(z|([+-][0-9]{2}:[0-9]{2}))", parts[1]
    )
    return bool(match) and match[1] <= "23" and match[2] <= "59" and match[3] <= "59"


def _is_date(text: str) -> bool:
    """Go's time.Parse("2006-01-02", text)."""
    if not re.fullmatch("[0-9]{4}-[0-9]{2}-[0-9]{2}", text):
        return False
    try:
        datetime.date(int(text[:4]), int(text[5:7]), int(text[8:]))
    except ValueError:
        return False
    return True


def _in_range(bits: int) -> Callable[[object], bool]:
    def check(value: object) -> bool:
        if isinstance(value, bool) or not isinstance(value, int | float):
            return True
        return float(value).is_integer() and -(2 ** (bits - 1)) <= value < 2 ** (bits - 1)

    return check


FORMATS.checks("int32")(_in_range(32))
FORMATS.checks("int64")(_in_range(64))


# --- The keywords that differ from JSON Schema -----------------------------------------------


@functools.cache
def go_regex(pattern: str) -> re.Pattern[str]:
    """An RE2 pattern as Python compiles it: `$` (outside a class) is the end of the text, and a
    flag group `(?i)`, which sets its flags to the end of the group it is in (Go's regexp/syntax
    doc), is Python's scoped `(?i:…)` closed there: Python takes `(?i)` only at the start."""
    out: list[str] = []
    scoped = [0]  # for each open group: the scoped flag groups to close with it
    in_class = escaped = False
    at = 0
    while at < len(pattern):
        char = pattern[at]
        at += 1
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
        elif flags := re.match(r"\?([imsU-]+)\)", pattern[at:]) if char == "(" else None:
            if set(flags[1]) - set("is-"):  # m and U would change what `$` and repeats mean here
                raise NotImplementedError(f"the flags of (?{flags[1]}) in {pattern!r}")
            char = f"(?{flags[1]}:"
            scoped[-1] += 1
            at += len(flags[0])
        elif char == "(":
            scoped.append(0)
        elif char == ")":
            char = ")" * scoped.pop() + char
        elif char == "$":
            char = r"\Z"
        out.append(char)
    return re.compile("".join(out) + ")" * scoped[0], re.ASCII)


def _pattern(
    validator: Validator, pattern: str, instance: Any, schema: Schema
) -> Iterator[ValidationError]:
    if isinstance(instance, str) and not go_regex(pattern).search(instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


def _list_type(
    validator: Validator, list_type: str, instance: Any, schema: Schema
) -> Iterator[ValidationError]:
    """listtype.ValidateListSetsAndMaps: a duplicate reported once, at its second occurrence."""
    if not isinstance(instance, list) or list_type not in ("set", "map"):
        return
    items = cast("list[Any]", instance)
    if list_type == "map":
        for i, item in enumerate(items):
            if item is not None and not isinstance(item, dict):
                yield ValidationError("must be an object for an array of list-type map", path=[i])
                return
        names: list[str] = schema.get("x-kubernetes-list-map-keys", [])
        maps = cast("list[dict[str, Any] | None]", items)
        items = [{n: m[n] for n in names if n in m} if m else {} for m in maps]
    seen: dict[str, int] = {}
    for i, item in enumerate(items):
        key = json.dumps(item, sort_keys=True)
        seen[key] = seen.get(key, 0) + 1
        if seen[key] == 2:
            yield ValidationError(f"Duplicate value: {key}", path=[i])


_Draft4 = cast(
    "type[Validator]",
    validators.extend(  # pyright: ignore[reportUnknownMemberType]
        Draft4Validator,
        validators={"pattern": _pattern, "x-kubernetes-list-type": _list_type},
        type_checker=Draft6Validator.TYPE_CHECKER,  # 1.0 is an integer, as for go-openapi
    ),
)


# --- The conversion --------------------------------------------------------------------------


def _format(fmt: str | None, types: Sequence[str]) -> str | None:
    """StripUnsupportedFormatsPostProcessorForVersion: the format kept, normalised, or None."""
    if not fmt:
        return None
    kind = types[0] if len(types) == 1 else ""
    if kind in ("", "string"):
        normalised = fmt.replace("-", "")
        return normalised if normalised in STRING_FORMATS else None
    return fmt if fmt in _NUMBER_FORMATS.get(kind, ()) else None


def convert(node: Schema, skeleton: bool = True) -> Schema:
    """One node of a structural schema as JSON Schema; `skeleton`: outside every junctor."""
    if node.get("x-kubernetes-embedded-resource") or node.get("additionalProperties") is True:
        raise NotImplementedError("x-kubernetes-embedded-resource, additionalProperties: true")
    out = {k: v for k, v in node.items() if not k.startswith("x-kubernetes-")}
    out.pop("nullable", None)
    out.pop("format", None)
    if "properties" in node:
        out["properties"] = {n: convert(s, skeleton) for n, s in node["properties"].items()}
    for key in ("items", "additionalProperties"):
        if isinstance(node.get(key), dict):
            out[key] = convert(node[key], skeleton)
    for key in ("allOf", "anyOf", "oneOf"):
        if key in node:
            out[key] = [convert(s, skeleton=False) for s in node[key]]
    if "not" in node:
        out["not"] = convert(node["not"], skeleton=False)
    types = ["integer", "string"] if node.get("x-kubernetes-int-or-string") else []
    types = types or ([node["type"]] if "type" in node else [])
    if fmt := _format(node.get("format"), types):
        out["format"] = fmt
    if types:
        out["type"] = [*types, "null"] if node.get("nullable") else types
    if skeleton:
        for key in ("x-kubernetes-list-type", "x-kubernetes-list-map-keys"):
            if key in node:
                out[key] = node[key]
        if (
            not node.get("x-kubernetes-preserve-unknown-fields")
            and "additionalProperties" not in node
        ):
            out["additionalProperties"] = False
    return out


def coerce(value: Any, node: Schema | None) -> Any:
    """A copy of `value` with the non-nullable nulls without default dropped and the defaults
    applied (defaulting.PruneNonNullableNullsWithoutDefaults, then defaulting.Default)."""
    if node is None:
        return value
    if isinstance(value, list):
        items: Schema | None = node.get("items")
        return [coerce(_default_if_null(v, items), items) for v in cast("list[Any]", value)]
    if not isinstance(value, dict):
        return value
    properties: Mapping[str, Schema] = node.get("properties", {})
    extra = node.get("additionalProperties")
    extra = cast("Schema", extra) if isinstance(extra, dict) else None
    out: dict[str, Any] = {}
    for key, v in cast("dict[str, Any]", value).items():
        sub = properties.get(key, extra)
        if v is None and sub is not None and not sub.get("nullable") and "default" not in sub:
            continue
        out[key] = _default_if_null(v, sub)
    for key, sub in properties.items():
        if key not in out and "default" in sub:
            out[key] = copy.deepcopy(sub["default"])
    return {k: coerce(v, properties.get(k, extra)) for k, v in out.items()}


def _default_if_null(value: Any, node: Schema | None) -> Any:
    if value is None and node is not None and not node.get("nullable") and "default" in node:
        return copy.deepcopy(node["default"])
    return value


# --- Custom resource definitions -------------------------------------------------------------


class Crd:
    """One served version of a CRD: its group, version, kind and `openAPIV3Schema`."""

    def __init__(self, group: str, version: str, kind: str, schema: Schema) -> None:
        self.group, self.version, self.kind, self.schema = group, version, kind, schema

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}"

    @functools.cached_property
    def json_schema(self) -> Schema:
        """The schema converted, its root's type meta pinned to the CRD and metadata an object."""
        root = convert(self.schema)
        root["properties"] = {
            **root.get("properties", {}),
            "apiVersion": {"type": "string", "enum": [self.api_version]},
            "kind": {"type": "string", "enum": [self.kind]},
            "metadata": {"type": "object"},
        }
        required = root.get("required", [])
        root["required"] = [
            *required,
            *(k for k in ("apiVersion", "kind", "metadata") if k not in required),
        ]
        return root

    @functools.cached_property
    def validator(self) -> Validator:
        return _Draft4(self.json_schema, format_checker=FORMATS)

    def validate(self, obj: Mapping[str, Any]) -> list[str]:
        """What the API server would refuse in `obj`, one message per error, each with its path."""
        errors = self.validator.iter_errors(coerce(obj, self.schema))
        return [m for e in sorted(errors, key=_path_key) for m in _messages(e)]


def path(parts: Iterable[str | int]) -> str:
    """A field path as the API server writes it: spec.dnsNames[0]."""
    text = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in parts)
    return text.removeprefix(".") or "(root)"


def _path_key(error: ValidationError) -> list[str]:
    return [str(p) for p in error.absolute_path]


def _messages(error: ValidationError) -> list[str]:
    where = list(error.absolute_path)
    if error.validator == "additionalProperties" and error.validator_value is False:
        known = cast("Schema", error.schema).get("properties", {})
        fields = cast("dict[str, Any]", error.instance)
        return [f'unknown field "{path([*where, k])}"' for k in fields if k not in known]
    return [f"{path(where)}: {error.message}"]


def _load() -> dict[str, Crd]:
    crds: dict[str, Crd] = {}
    for file in sorted(CRD_DIR.glob("*.json")):
        document = json.loads(file.read_text(encoding="utf-8"))
        crd = Crd(document["group"], document["version"], document["kind"], document["schema"])
        assert crd.kind not in crds, f"two vendored CRDs of kind {crd.kind}"
        crds[crd.kind] = crd
    return crds


CRDS = _load()
"""kind -> its vendored CRD (tests/render/crds/*.json), each schema read once."""


def crd_for(obj: Mapping[str, Any]) -> Crd | None:
    """The vendored CRD of `obj`'s kind in its apiVersion's group, if any."""
    crd = CRDS.get(obj.get("kind", ""))
    group = str(obj.get("apiVersion", "")).rpartition("/")[0]
    return crd if crd is not None and group == crd.group else None


def validate(obj: Mapping[str, Any]) -> list[str]:
    """What the API server would refuse in the custom resource `obj`, given its vendored CRD."""
    crd = crd_for(obj)
    if crd is None:
        group = str(obj.get("apiVersion", "")).rpartition("/")[0]
        return [f"kind: no CRD vendored in tests/render/crds/ for {obj.get('kind')!r} in {group!r}"]
    return crd.validate(obj)
