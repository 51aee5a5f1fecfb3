"""Kubernetes objects as a render-mode pulumi-kubernetes writes them, with secrets redacted.

One YAML file per object under `<out>/1-manifest/`, named
`<apiVersion with / and : as _>-<kind, lowercased>-<namespace or "default">-<name>.yaml`, keys
sorted, as the provider does; so an offline render and a real one can be diffed. A program whose
objects go through more than one Kubernetes provider (a fleet: one cluster per cache) gets one
folder per provider, `<out>/<provider's name>/1-manifest/`, as if each provider rendered its own.
`<out>/resources.json` says which Pulumi resource each file is.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from .provider_mocks import Registered, redacted

MANIFEST_DIR = "1-manifest"
CRD_DIR = "0-crd"
# Beside the manifests, which Pulumi resource each file is ({file under out: resource name}):
# what render-diff pairs the two sides by, as `pulumi up` pairs objects by their URN, so an
# object moved to another namespace or renamed is a replacement, not a creation and a deletion.
INDEX = "resources.json"


def file_name(obj: dict[str, Any]) -> str:
    """The file pulumi-kubernetes' renderYamlToDirectory writes `obj` to."""
    api_version = obj["apiVersion"].replace("/", "_").replace(":", "_")
    metadata = obj["metadata"]
    namespace = metadata.get("namespace") or "default"
    folder = CRD_DIR if obj["kind"] == "CustomResourceDefinition" else MANIFEST_DIR
    return f"{folder}/{api_version}-{obj['kind'].lower()}-{namespace}-{metadata['name']}.yaml"


def manifest(resource: Registered) -> dict[str, Any]:
    """The object the provider would write: its checked inputs, secrets redacted, no status."""
    obj = redacted(resource.outputs, resource.secret_paths)
    obj.pop("status", None)
    if obj.get("kind") == "Secret":
        # The provider folds stringData into base64 data; every value is redacted (keeping the
        # generations of what was generated: a new certificate shows), valid base64.
        data: dict[str, Any] = {
            **(obj.pop("data", None) or {}),
            **(obj.pop("stringData", None) or {}),
        }
        if data:
            obj["data"] = {
                k: base64.b64encode(f"{data[k]} {k}".encode()).decode() for k in sorted(data)
            }
    return obj


class _Dumper(yaml.SafeDumper):
    """Block style with multi-line strings (config.yaml, PEMs) as literal blocks, for review."""


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    # types-PyYAML leaves represent_scalar's `value` unannotated.
    return dumper.represent_scalar(  # pyright: ignore[reportUnknownMemberType]
        "tag:yaml.org,2002:str", value, style=style
    )


_Dumper.add_representer(str, _str)


def dump(obj: dict[str, Any]) -> str:
    """YAML text of one object, keys sorted."""
    return yaml.dump(obj, Dumper=_Dumper, sort_keys=True, default_flow_style=False, width=1 << 16)


def provider_name(reference: str) -> str:
    """The resource name of the provider a reference (`<URN>::<ID>`) points at."""
    urn = reference.rsplit("::", 1)[0]
    return urn.split("::", 3)[-1]


def by_folder(resources: Iterable[Registered]) -> dict[str, list[Registered]]:
    """The Kubernetes objects by the folder under `out` they are written to: all in "" when one
    provider renders them, else in one folder per provider, named after it."""
    objects = [r for r in resources if r.typ.startswith("kubernetes:") and "kind" in r.inputs]
    folders: dict[str, list[Registered]] = {}
    for r in objects:
        folders.setdefault(provider_name(r.provider), []).append(r)
    if len(folders) <= 1:
        return {"": objects}
    return folders


def write(resources: Iterable[Registered], out: Path) -> list[Path]:
    """Write every Kubernetes object under `out`, replacing what an earlier render left there."""
    for old in [*out.glob("*/*.yaml"), *out.glob("*/*/*.yaml")]:
        if old.parent.name in (MANIFEST_DIR, CRD_DIR):
            old.unlink()
    written: list[Path] = []
    index: dict[str, str] = {}
    for folder, registered in by_folder(resources).items():
        for resource in registered:
            obj = manifest(resource)
            path = out / folder / file_name(obj)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(dump(obj))
            written.append(path)
            index[path.relative_to(out).as_posix()] = resource.name
    (out / INDEX).write_text(json.dumps(index, indent=1, sort_keys=True) + "\n")
    return sorted(written)
