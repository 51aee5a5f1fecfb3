"""The lock files: every package each virtualenv installs, pinned, with its hashes.

Each requirements*.txt keeps ranges (the component package's are what its consumers get); `make
lock` compiles it with pip-compile into the .lock beside it, which `make` installs from with
--require-hashes. So a pull request's base and head, CI and a laptop install the same packages,
and Renovate proposes their bumps as pull requests.
"""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import pytest
from harness import ROOT
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

LOCKS = {
    "requirements.lock": "requirements.txt",
    "requirements-dev.lock": "requirements-dev.txt",
    "policy/requirements.lock": "policy/requirements.txt",
    "requirements-checkov.lock": "requirements-checkov.txt",
    "requirements-moto.lock": "requirements-moto.txt",
}


def pinned(lock: str) -> dict[str, str]:
    """{package: version} of a lock file, checking each entry is an exact pin with hashes."""
    text = (ROOT / lock).read_text()
    entries = re.split(r"\n(?=\S)", re.sub(r"(?m)^#.*\n", "", text).strip())
    found = {}
    for entry in entries:
        requirement, *hashes = [part.strip() for part in entry.split("\\\n")]
        hashes = [h for h in hashes if not h.startswith("#")]
        match = re.fullmatch(r"([A-Za-z0-9._-]+)==(\S+)", requirement)
        assert match, f"{lock}: not an exact pin: {requirement!r}"
        assert hashes and all(
            re.fullmatch(r"--hash=sha256:[0-9a-f]{64}(\s+#.*)?", h.split("\n")[0]) for h in hashes
        ), f"{lock}: {requirement} without hashes"
        found[canonicalize_name(match[1])] = match[2]
    return found


def requirements(path: Path) -> list[Requirement]:
    """The requirements of a requirements file, following its `-r` includes."""
    found = []
    for line in path.read_text().splitlines():
        line = line.split("#")[0].strip()
        if line.startswith("-r "):
            found += requirements(path.parent / line[3:].strip())
        elif line:
            found.append(Requirement(line))
    return found


@pytest.mark.parametrize(("lock", "source"), LOCKS.items())
def test_each_lock_pins_its_requirements_within_their_ranges(lock: str, source: str) -> None:
    lines = (ROOT / lock).read_text().splitlines()
    header = "\n".join(lines[: next(i for i, line in enumerate(lines) if not line.startswith("#"))])
    # Made by `make lock`: pip-compile with hashes, from the requirements file beside it.
    assert "pip-compile" in header and "--generate-hashes" in header
    [command] = [line for line in header.splitlines() if "pip-compile --" in line]
    assert f"--output-file={lock}" in command and command.endswith(f" {source}")
    versions = pinned(lock)
    for requirement in requirements(ROOT / source):
        name = canonicalize_name(requirement.name)
        assert name in versions, f"{lock} lacks {requirement}"
        assert requirement.specifier.contains(versions[name], prereleases=True), requirement


@pytest.mark.parametrize("lock", ["requirements.lock", "policy/requirements.lock"])
def test_the_program_and_the_policy_pack_get_the_versions_the_tests_run(lock: str) -> None:
    # The dev lock holds the program's packages and the dev tools'; the others take its versions.
    dev = pinned("requirements-dev.lock")
    assert {name: dev.get(name) for name in pinned(lock)} == pinned(lock)


def test_the_component_package_keeps_ranges_for_its_consumers() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    [source] = project["tool"]["setuptools"]["dynamic"]["dependencies"]["file"]
    # But for pulumi-kubernetes: the engine layer can build its provider at one release only
    # (toolchain/tools.toml pins it by that release's commit), so consumers get that release,
    # the one whose behaviour the tests prove.
    tools = tomllib.loads((ROOT / "toolchain" / "tools.toml").read_text())
    proven = {
        t: spec["release"] for t, spec in tools.items() if {"commits", "release"} <= set(spec)
    }
    # And for a package whose every build carries its own epoch (grafana-foundation-sdk:
    # <build epoch>!<Grafana version>, the newest Grafana with the lowest epoch of a build): a
    # range picks the highest epoch, an older Grafana; Renovate proposes only later builds of the
    # pinned Grafana (its allowedVersions in .github/renovate.json).
    config = json.loads((ROOT / ".github" / "renovate.json").read_text())
    for requirement in requirements(ROOT / source):
        exact = [s.version for s in requirement.specifier if s.operator == "=="]
        if any(Version(v).epoch for v in exact):
            [rule] = [
                r
                for r in config["packageRules"]
                if requirement.name in r.get("matchPackageNames", [])
            ]
            assert re.fullmatch(rule["allowedVersions"].strip("/"), exact[0]), requirement
            continue
        assert exact == ([proven[requirement.name]] if requirement.name in proven else []), (
            requirement
        )


def test_renovate_proposes_the_bumps() -> None:
    config = json.loads((ROOT / ".github" / "renovate.json").read_text())
    patterns = [p.strip("/") for p in config["pip-compile"]["managerFilePatterns"]]
    for lock in LOCKS:
        assert any(re.search(p, lock) for p in patterns), f"Renovate does not update {lock}"
    # The CLI the workflows install moves with the SDK: the same package, the same version.
    [cli] = [m for m in config["customManagers"] if m.get("depNameTemplate") == "pulumi"]
    assert cli["datasourceTemplate"] == "pypi"
    [match] = cli["matchStrings"]
    workflows = [p for p in (ROOT / ".github" / "workflows").iterdir() if p.suffix == ".yml"]
    versions = {m for p in workflows for m in re.findall(match.replace("?<", "?P<"), p.read_text())}
    assert versions == {pinned("requirements.lock")["pulumi"]}
    # actionlint, the workflows' linter, and the Go tools the tests run that no release moves
    # (promtool's prometheus, the registry server's distribution), at the module and version of
    # their tables in tools.toml.
    [go] = [m for m in config["customManagers"] if m["datasourceTemplate"] == "go"]
    [pattern] = go["managerFilePatterns"]
    assert re.search(pattern.strip("/"), "toolchain/tools.toml")
    [match] = go["matchStrings"]
    tools = (ROOT / "toolchain" / "tools.toml").read_text()
    found = [m.groupdict() for m in re.finditer(match.replace("?<", "?P<"), tools)]
    pins = tomllib.loads(tools)
    assert found == [
        {"depName": pins[t]["module"], "currentValue": pins[t]["version"]}
        for t in pins
        if t in ("actionlint", "prometheus", "distribution")
    ]


def releases() -> dict[str, str]:
    """{package: release} of each tool in toolchain/tools.toml that stands for a Python SDK's
    plugin (its table's name is the package's)."""
    tools = tomllib.loads((ROOT / "toolchain" / "tools.toml").read_text())
    return {tool: spec["release"] for tool, spec in tools.items() if "release" in spec}


def test_each_provider_the_engine_layer_builds_is_the_release_the_lock_gives_users() -> None:
    # The kubernetes provider is built at its release's commit; the bridged tls and random
    # providers report the release they stand for (docs/toolchain.md).
    assert set(releases()) >= {"pulumi-kubernetes", "pulumi-tls", "pulumi-random"}
    lock = pinned("requirements.lock")
    assert {package: lock.get(package) for package in releases()} == releases()


def test_renovate_moves_each_release_with_its_lock_in_one_pull_request() -> None:
    config = json.loads((ROOT / ".github" / "renovate.json").read_text())
    [manager] = [
        m
        for m in config["customManagers"]
        if m["datasourceTemplate"] == "pypi" and "depNameTemplate" not in m
    ]
    [pattern] = manager["managerFilePatterns"]
    assert re.search(pattern.strip("/"), "toolchain/tools.toml")
    [match] = manager["matchStrings"]
    tools = (ROOT / "toolchain" / "tools.toml").read_text()
    found = {
        m["depName"]: m["currentValue"] for m in re.finditer(match.replace("?<", "?P<"), tools)
    }
    assert found == releases()
    # Each release and the pip-compile update of its package (the same name on PyPI) share a
    # group, which nothing narrows to one manager: they are one pull request.
    for package in releases():
        [rule] = [r for r in config["packageRules"] if package in r.get("matchPackageNames", [])]
        assert rule.get("groupName") and rule["matchPackageNames"] == [package]
        assert not {"matchManagers", "matchDatasources", "matchFileNames"} & set(rule)


def test_renovate_pins_the_workflows_container_images_by_digest() -> None:
    # test.yml runs in python:3.11-bookworm: the github-actions manager finds the image, and this
    # rule has Renovate pin it by digest and keep the pin current.
    config = json.loads((ROOT / ".github" / "renovate.json").read_text())
    rules = [r for r in config["packageRules"] if r.get("pinDigests")]
    assert [(r["matchManagers"], r["matchDatasources"]) for r in rules] == [
        (["github-actions"], ["docker"])
    ]
    test = (ROOT / ".github" / "workflows" / "test.yml").read_text()
    assert re.search(r"(?m)^    container: python:3\.11-bookworm(@sha256:[0-9a-f]{64})?$", test)
