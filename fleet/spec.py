"""A fleet file: each cache's stack, cluster and config, and the caches it pulls from.

    caches:
      - name: central                  # how the file names it; `cache:central` is its url
        stack: central                 # its stack (default: the name)
        cluster: {context: hq}         # a kubeconfig context, and/or {kubeconfig: path}
        config:                        # the keys of a stack file
          msr-cache:upstreams: [https://msr.example.com]
          msr-cache:hosts: [cache.hq.example.com]
          msr-cache:port: 30443
      - name: asia
        cluster: {kubeconfig: ~/.kube/asia.yaml}
        config:
          msr-cache:upstreams: ["cache:central"]   # central's url; its caCertPem is trusted
          ...

The file's own shape is checked here, every problem at once; each cache's config is then checked
by the stack program itself, offline (`fleet.check`), before any stack is touched.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from components.inputs import checks, rules
from components.inputs.plain import as_yaml, is_mapping, is_sequence
from components.inputs.problems import PROJECT, Invalid

CACHE_PREFIX = "cache:"
"""An upstream written `cache:<name>` is that cache of the fleet: its url, and its CA trusted."""
UPSTREAMS = f"{PROJECT}:upstreams"
CA_KEY = f"{PROJECT}:upstreamCaCert"
CONTEXT_KEY = f"{PROJECT}:kubeContext"
_CACHE_FIELDS = {"name", "stack", "cluster", "config"}
_CLUSTER_FIELDS = {"context", "kubeconfig"}


class FleetError(Exception):
    """What is wrong with a fleet file: every problem, each naming where it is."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = tuple(problems)
        super().__init__("invalid fleet:\n" + "\n".join(f"  - {p}" for p in self.problems))


@dataclasses.dataclass(frozen=True)
class Cluster:
    """Where a cache runs: a kubeconfig context, of the default kubeconfig or of a file."""

    context: str | None = None
    kubeconfig: Path | None = None


@dataclasses.dataclass(frozen=True)
class Cache:
    """One cache of the fleet: a stack of this project."""

    name: str
    stack: str
    cluster: Cluster
    config: Mapping[str, Any]
    """Its stack config, as a stack file holds it; `cache:<name>` upstreams not yet resolved."""

    @property
    def pulls_from(self) -> tuple[str, ...]:
        """The fleet's caches among its upstreams, in their order."""
        upstreams = self.config.get(UPSTREAMS)
        if not is_sequence(upstreams) or isinstance(upstreams, str):
            return ()
        return tuple(
            u.removeprefix(CACHE_PREFIX)
            for u in upstreams
            if isinstance(u, str) and u.startswith(CACHE_PREFIX)
        )

    def resolved(self, urls: Mapping[str, str], cas: Mapping[str, str]) -> dict[str, Any]:
        """Its config with each `cache:<name>` upstream that cache's url, and, unless the config
        names MSR's CA itself, the CAs of those caches as upstreamCaCert (one bundle). An
        upstream of which neither is known (a destroy's, never deployed) stays as written."""
        config = dict(self.config)
        if self.cluster.context is not None:
            config[CONTEXT_KEY] = self.cluster.context
        if not self.pulls_from:
            return config
        config[UPSTREAMS] = [
            urls.get(u.removeprefix(CACHE_PREFIX), u)
            if isinstance(u, str) and u.startswith(CACHE_PREFIX)
            else u
            for u in config[UPSTREAMS]
        ]
        bundle = "".join(cas[name] for name in self.pulls_from if name in cas)
        if CA_KEY not in config and bundle:
            config[CA_KEY] = bundle
        return config


@dataclasses.dataclass(frozen=True)
class Fleet:
    """The caches of a fleet file, in its order."""

    caches: tuple[Cache, ...]

    def by_name(self) -> dict[str, Cache]:
        return {c.name: c for c in self.caches}

    def waves(self) -> list[tuple[Cache, ...]]:
        """The caches in waves: each after every cache it pulls from (a fleet has no cycle)."""
        done: set[str] = set()
        waves: list[tuple[Cache, ...]] = []
        while len(done) < len(self.caches):
            wave = tuple(c for c in self.caches if c.name not in done and set(c.pulls_from) <= done)
            assert wave, "a cycle: load refuses it"
            waves.append(wave)
            done |= {c.name for c in wave}
        return waves

    def downstream_of(self, name: str) -> list[str]:
        """Every cache that pulls from `name`, directly or through another, in file order."""
        found: set[str] = set()
        grew = True
        while grew:
            more = {
                c.name
                for c in self.caches
                if c.name not in found and ({name} | found) & set(c.pulls_from)
            }
            found |= more
            grew = bool(more)
        return [c.name for c in self.caches if c.name in found]


def load(path: Path) -> Fleet:
    """The fleet file at `path`, its shape checked; raises FleetError naming every problem."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as err:
        raise FleetError([f"{path}: {err}"]) from None
    return parse(raw, path.parent)


def parse(raw: Any, base: Path) -> Fleet:
    """A fleet from the file's data (relative kubeconfig paths from `base`)."""
    if not is_mapping(raw) or set(raw) != {"caches"} or not is_sequence(raw["caches"]):
        raise FleetError(["the file: expected an object {caches: [...]}, one entry per cache"])
    problems: list[str] = []
    caches = [_cache(i, entry, base, problems) for i, entry in enumerate(raw["caches"])]
    found = [c for c in caches if c is not None]
    if not raw["caches"]:
        problems.append("caches: expected at least one cache")
    for field in ("name", "stack"):
        values = [getattr(c, field) for c in found]
        twice = sorted({v for v in values if values.count(v) > 1})
        if twice:
            problems.append(f"caches: each {field} once; {', '.join(twice)} more than once")
    fleet = Fleet(tuple(found))
    named = {e["name"] for e in raw["caches"] if is_mapping(e) and isinstance(e.get("name"), str)}
    problems += _references(fleet, named)
    if problems:
        raise FleetError(problems)
    return fleet


def _where(i: int, entry: Any) -> str:
    name = entry.get("name") if is_mapping(entry) else None
    return f"caches[{i}] ({name})" if isinstance(name, str) else f"caches[{i}]"


def _cache(i: int, entry: Any, base: Path, problems: list[str]) -> Cache | None:
    where = _where(i, entry)
    if not is_mapping(entry):
        problems.append(f"{where}: expected an object {{name, stack, cluster, config}}")
        return None
    before = len(problems)
    for key in sorted(set(entry) - _CACHE_FIELDS):
        problems.append(f"{where}.{key}: unknown; expected {', '.join(sorted(_CACHE_FIELDS))}")
    name = _checked(f"{where}.name", entry.get("name"), checks.check_dns_label, problems)
    stack = entry.get("stack", name)
    for misnamed in rules.check_resource_name(stack if isinstance(stack, str) else None):
        problems.append(f"{where}.stack: got {as_yaml(stack)}; expected {misnamed.accepted}")
    cluster = _cluster(f"{where}.cluster", entry.get("cluster"), base, problems)
    config = entry.get("config", {})
    if not is_mapping(config):
        problems.append(f"{where}.config: expected an object of stack config keys")
    else:
        for key in sorted(k for k in config if not str(k).startswith(f"{PROJECT}:")):
            problems.append(f"{where}.config.{key}: expected a key of {PROJECT}, {PROJECT}:<key>")
        if CONTEXT_KEY in config:
            problems.append(f"{where}.config.{CONTEXT_KEY}: the cluster says it: cluster.context")
    if len(problems) > before or name is None or cluster is None:
        return None
    return Cache(name, stack, cluster, dict(config))


def _checked(where: str, value: Any, check: Any, problems: list[str]) -> Any:
    try:
        return check(value)
    except Invalid as invalid:
        problems.append(f"{where}: got {as_yaml(value)}; expected {invalid.accepted}")
        return None


def _cluster(where: str, value: Any, base: Path, problems: list[str]) -> Cluster | None:
    accepted = "an object {context, kubeconfig}: a kubeconfig context, a kubeconfig file, or both"
    if not is_mapping(value) or not value or set(value) - _CLUSTER_FIELDS:
        problems.append(f"{where}: got {as_yaml(value)}; expected {accepted}")
        return None
    context, kubeconfig = value.get("context"), value.get("kubeconfig")
    bad = [k for k in ("context", "kubeconfig") if k in value and not (
        isinstance(value[k], str) and value[k])]  # fmt: skip
    for key in bad:
        problems.append(f"{where}.{key}: got {as_yaml(value[key])}; expected a non-empty string")
    path = (base / Path(kubeconfig).expanduser()) if isinstance(kubeconfig, str) else None
    if path is not None and not bad and not path.is_file():
        problems.append(f"{where}.kubeconfig: {path} is not a file")
        return None
    return None if bad else Cluster(context, path)


def _references(fleet: Fleet, names: set[str]) -> list[str]:
    """Each `cache:<name>` names another cache of the fleet (`names`: those the file names,
    problems or not), and no cache pulls from itself through others."""
    problems = [
        f"{c.name}: {UPSTREAMS}: cache:{u} is no cache of this fleet; expected one of "
        + ", ".join(sorted(names - {c.name}))
        for c in fleet.caches
        for u in c.pulls_from
        if u not in names or u == c.name
    ]
    if problems or {u for c in fleet.caches for u in c.pulls_from} - {c.name for c in fleet.caches}:
        return problems  # a loop is looked for once every cache is there
    pulled = {c.name: set(c.pulls_from) for c in fleet.caches}
    looped = [c.name for c in fleet.caches if c.name in _reached(c.name, pulled)]
    if looped:
        problems.append(f"caches: {', '.join(looped)} pull from each other in a loop")
    return problems


def _reached(name: str, pulled: Mapping[str, set[str]]) -> set[str]:
    reached, todo = set[str](), list(pulled[name])
    while todo:
        other = todo.pop()
        if other not in reached:
            reached.add(other)
            todo += pulled[other]
    return reached
