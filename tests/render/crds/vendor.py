"""Regenerate the vendored CRD schemas of tests/render/crds/ from git copies of their repositories.

    .venv/bin/python tests/render/crds/vendor.py DIR

DIR holds one git copy (bare or not) of each source repository, as `DIR/<owner>+<name>/repo`,
`DIR/<owner>+<name>` or `DIR/<name>`. For each kind below the script reads the CRD at the tag
toolchain/tools.toml pins for its project (the version of the [gateway-api], [cert-manager] or
[prometheus-operator] table, which the test cluster installs), checks the repository's LICENSE
is Apache-2.0 and writes `tests/render/crds/<plural>.<group>.<version>.json`: the source (repository,
tag, commit, path), the licence, the group, version and kind, and the served version's
`openAPIV3Schema`, verbatim. Not run by `make test`: the tests read the files it writes, and
hold their tags to tools.toml. To move a pin, edit tools.toml and rerun.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
TOOLS = HERE.parents[2] / "toolchain" / "tools.toml"


@dataclasses.dataclass(frozen=True)
class Source:
    """One CRD to vendor: where it is, and the table of tools.toml that pins its release."""

    repository: str  # owner/name on GitHub
    pinned_by: str  # the table of toolchain/tools.toml whose version is the tag
    path: str
    version: str  # the CRD version whose schema is vendored
    same_as: str = ""  # another copy of the CRD in the repository, whose schema must be equal

    @property
    def tag(self) -> str:
        """The release tools.toml pins: the test cluster installs the same one."""
        return tomllib.loads(TOOLS.read_text())[self.pinned_by]["version"]


SOURCES = [
    # What cert-manager's Helm chart installs (the release's cert-manager.crds.yaml is rendered
    # from it); deploy/crds/ holds the same CRD without the chart's template lines.
    Source(
        "cert-manager/cert-manager",
        "cert-manager",
        "deploy/charts/cert-manager/templates/crd-cert-manager.io_certificates.yaml",
        "v1",
        same_as="deploy/crds/cert-manager.io_certificates.yaml",
    ),
    Source(
        "prometheus-operator/prometheus-operator",
        "prometheus-operator",
        "example/prometheus-operator-crd/monitoring.coreos.com_servicemonitors.yaml",
        "v1",
    ),
    Source(
        "prometheus-operator/prometheus-operator",
        "prometheus-operator",
        "example/prometheus-operator-crd/monitoring.coreos.com_prometheusrules.yaml",
        "v1",
    ),
    Source(
        "kubernetes-sigs/gateway-api",
        "gateway-api",
        "config/crd/standard/gateway.networking.k8s.io_tlsroutes.yaml",
        "v1",
    ),
    Source(
        "kubernetes-sigs/gateway-api",
        "gateway-api",
        "config/crd/standard/gateway.networking.k8s.io_gateways.yaml",
        "v1",
    ),
]


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, check=True
    ).stdout


def find_repo(root: Path, repository: str) -> Path:
    owner, name = repository.split("/")
    for candidate in (root / f"{owner}+{name}" / "repo", root / f"{owner}+{name}", root / name):
        if candidate.is_dir():
            return candidate
    sys.exit(f"no git copy of {repository} in {root}")


def read_crd(repo: Path, tag: str, path: str) -> dict[str, Any]:
    """The CRD at tag:path. A Helm template's lines that are only a template action
    (`{{- if ... }}`, `{{- include ... }}`) are dropped: the chart puts nothing in the schema."""
    text = git(repo, "show", f"{tag}:{path}")
    lines = text.splitlines(keepends=True)
    kept = [
        line
        for line in lines
        if not (line.strip().startswith("{{") and line.strip().endswith("}}"))
    ]
    if any("{{" in line for line in kept):
        sys.exit(f"{path}: a template action inside a line; strip it by hand")
    return yaml.safe_load("".join(kept))


def served_schema(crd: dict[str, Any], version: str) -> dict[str, Any]:
    (found,) = [v for v in crd["spec"]["versions"] if v["name"] == version]
    if not found.get("served"):
        sys.exit(f"{crd['metadata']['name']}: version {version} is not served")
    return found["schema"]["openAPIV3Schema"]


def vendor(root: Path, source: Source) -> Path:
    repo = find_repo(root, source.repository)
    licence = git(repo, "show", f"{source.tag}:LICENSE")
    if "Apache License" not in licence or "Version 2.0" not in licence:
        sys.exit(f"{source.repository} {source.tag}: LICENSE is not Apache-2.0")
    crd = read_crd(repo, source.tag, source.path)
    schema = served_schema(crd, source.version)
    if source.same_as:
        other = served_schema(read_crd(repo, source.tag, source.same_as), source.version)
        if other != schema:
            sys.exit(f"{source.path} and {source.same_as} differ at {source.tag}")
    spec = crd["spec"]
    document = {
        "source": {
            "repository": f"https://github.com/{source.repository}",
            "tag": source.tag,
            "commit": git(repo, "rev-parse", f"{source.tag}^{{commit}}").strip(),
            "path": source.path,
        },
        "licence": "Apache-2.0",
        "note": "spec.versions[name=version].schema.openAPIV3Schema of the CRD, verbatim; "
        "regenerate with tests/render/crds/vendor.py",
        "group": spec["group"],
        "version": source.version,
        "kind": spec["names"]["kind"],
        "schema": schema,
    }
    out = HERE / f"{spec['names']['plural']}.{spec['group']}.{source.version}.json"
    out.write_text(json.dumps(document, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("dir", type=Path, help="the folder holding the repositories' git copies")
    root = parser.parse_args().dir
    for source in SOURCES:
        print(vendor(root, source).relative_to(HERE.parents[2]))


if __name__ == "__main__":
    main()
