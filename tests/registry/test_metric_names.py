"""Every metric the alert rules and the dashboard read is one that something real exports (issue 27).

The names come from the rules and the dashboard themselves (`monitoring.rule_spec`,
`dashboard.dashboard`, over settings that make every alert and panel), read by Prometheus' own
PromQL parser (the toolchain's `promql-metrics`). Each must be one of:

- a sample of the registry server's /metrics, scraped from distribution v3.1.2 (the toolchain's
  `registry`) running the cache's config.yaml as a pull-through cache of a Debian 2.8.2 upstream,
  after an image was pulled through it twice (a miss, then a hit);
- a kubelet volume stat, read from Kubernetes' source at the version toolchain/tools.toml pins;
- cert-manager's certificate metrics, read from its source at the pinned version;
- `up`, which Prometheus writes itself.

Debian's docker-registry (2.8.2) is scraped the same way, to show which names the rules read
that it lacks, and the docs' table of which server has which series is held to both scrapes.

The scrape is read with a minimal reader of Prometheus' text exposition format (version 0.0.4,
https://prometheus.io/docs/instrumenting/exposition_formats/): no Python parser of it is locked.
promtool (the toolchain's, the pinned Prometheus) parses the same scrape with expfmt, and the
reader must find the families and sample counts it finds.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import json
import re
import shutil
import subprocess
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from harness import ROOT, cache, unavailable
from pod import lay_out, stored, without_downstream
from registry_client import SKOPEO, cert_dir, oci_image, plain, skopeo
from servers import REGISTRY, Names, Registry, pull_through, require

from components.inputs.settings import Settings, parse
from components.objects import monitoring
from components.objects.dashboard import dashboard
from components.objects.monitoring import Expiries, rule_spec
from toolchain import bin_dir, pins
from toolchain.build import BuildError, download

BUILT = ("registry", "promql-metrics", "promtool")
V3, V2 = "distribution v3.1.2", "distribution 2.8.2 (Debian)"
# Prometheus writes `up` itself for every target it scrapes (1 if the scrape succeeded), beside
# the target's own samples: "Jobs and instances", Prometheus' docs.
PROMETHEUS_WRITES = frozenset({"up"})

# Settings that make every alert and panel: a claim (the volume's), two replicas on it
# (ReadWriteMany), generated certificates (their expiries known); then cert-manager issuing.
MONITORED: Mapping[str, Any] = {
    "upstreams": ["https://msr.example.com"],
    "hosts": ["node1.example.com"],
    "port": 30443,
    "metrics": True,
    "serviceMonitor": True,
    "replicas": 2,
    "storageSize": "1Gi",
    "storageAccessMode": "ReadWriteMany",
}
CLAIM = "dtr-cache-data-1a2b3c4d"
GENERATED = Expiries("2027-12-07T10:00:00Z", "2036-12-05T10:00:00Z")


def cases() -> list[tuple[Settings, Expiries]]:
    return [
        (parse(dict(MONITORED)), GENERATED),
        (parse({**MONITORED, "certManagerIssuer": {"kind": "ClusterIssuer", "name": "ca"}}),
         Expiries("", "")),
    ]  # fmt: skip


OPERATE = ROOT / "docs" / "operate.md"
ORIGIN = "msr.example.com:30443"
IMAGE = "library/hello:1"


# -- the tools ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tools() -> None:
    require(REGISTRY, SKOPEO)
    missing = [t for t in BUILT if not (bin_dir() / t).exists()]
    if missing:
        unavailable(f"not built: {', '.join(missing)} (in {bin_dir()}): run `make toolchain`")
    if shutil.which("go") is None:
        unavailable("go not installed: the kubelet's and cert-manager's metrics are read from "
                    "their Go modules' source")  # fmt: skip


def promql_metrics(expressions: list[str]) -> list[set[str]]:
    """The metric names each expression's selectors name, by Prometheus' parser."""
    done = subprocess.run(
        [str(bin_dir() / "promql-metrics")], input=json.dumps(expressions),
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    found: list[list[str]] = json.loads(done.stdout)
    assert len(found) == len(expressions)
    return [set(names) for names in found]


def module_source(tool: str) -> Path:
    """The source of `tool`'s Go module at the version tools.toml pins (`go mod download`)."""
    spec = pins()[tool]
    try:
        return Path(download(f"{spec['module']}@{spec['version']}")["Dir"])
    except BuildError as err:
        unavailable(f"{spec['module']}@{spec['version']} not downloadable: {err}")


# -- the names the rules and the dashboard read ------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Query:
    alert: bool
    """An alert's expression, else a dashboard target's."""
    where: str
    """The alert's name, or the panel's title."""
    expr: str


def queries(settings: Settings, expiries: Expiries) -> list[Query]:
    """Every alert's expression and every dashboard target's."""
    (group,) = rule_spec(settings, CLAIM, expiries)["groups"]
    found = [Query(True, rule["alert"], rule["expr"]) for rule in group["rules"]]
    for panel in dashboard(settings, CLAIM, expiries)["panels"]:
        assert panel["targets"], panel["title"]
        found += [Query(False, panel["title"], target["expr"]) for target in panel["targets"]]
    return found


@pytest.fixture(scope="module")
def read(tools: None) -> dict[Query, set[str]]:
    """Each query of every case, and the metric names it reads."""
    every = [q for settings, expiries in cases() for q in queries(settings, expiries)]
    return dict(zip(every, promql_metrics([q.expr for q in every]), strict=True))


def names_of(read: Mapping[Query, set[str]]) -> set[str]:
    return set[str]().union(*read.values())


# -- the registry's /metrics -------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Sample:
    name: str
    labels: Mapping[str, str]
    value: float


@dataclasses.dataclass
class Exposition:
    """A scrape: its samples, and the family each sample belongs to by the TYPE lines."""

    samples: list[Sample]
    types: dict[str, str]

    @property
    def names(self) -> set[str]:
        return {s.name for s in self.samples}

    def family(self, sample: str) -> str:
        """The format's conventions: a histogram `x` has samples `x_bucket`, `x_sum` and
        `x_count`, a summary `x` has `x` (by quantile), `x_sum` and `x_count`; a sample of no
        TYPE is a family of its own (untyped)."""
        for suffix, kinds in (("_bucket", {"histogram"}), ("_sum", {"histogram", "summary"}),
                              ("_count", {"histogram", "summary"})):  # fmt: skip
            base = sample.removesuffix(suffix)
            if base != sample and self.types.get(base) in kinds:
                return base
        return sample

    def families(self) -> dict[str, int]:
        """Each family and how many samples it has."""
        counts: dict[str, int] = {}
        for s in self.samples:
            counts[self.family(s.name)] = counts.get(self.family(s.name), 0) + 1
        return counts

    def of(self, name: str) -> list[Sample]:
        return [s for s in self.samples if s.name == name]


METRIC_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
ESCAPES = {"\\": "\\", '"': '"', "n": "\n"}


def read_exposition(text: str) -> Exposition:
    """The text format: lines end in \\n, blank ones are ignored, tokens are separated by blanks
    and a line's leading and trailing blanks ignored. `#` starts a comment, of which `# HELP name
    text` and `# TYPE name type` are read (TYPE's types: counter, gauge, histogram, summary,
    untyped); any other line is a sample: `name[{label="value",...}] value [timestamp]`, a label
    value escaping `\\`, `"` and line feed as `\\\\`, `\\"` and `\\n`, a trailing comma allowed."""
    samples: list[Sample] = []
    types: dict[str, str] = {}
    assert text.endswith("\n"), "the last line must end with a line feed"
    for number, raw in enumerate(text.split("\n"), 1):
        line = raw.strip(" \t")
        if not line:
            continue
        if line.startswith("#"):
            tokens = line[1:].split(maxsplit=2)
            if tokens[:1] == ["TYPE"]:
                _, name, kind = tokens
                assert METRIC_NAME.fullmatch(name), f"line {number}: {raw}"
                assert kind in {"counter", "gauge", "histogram", "summary", "untyped"}, raw
                assert name not in types, f"line {number}: a second TYPE for {name}"
                types[name] = kind
            continue
        samples.append(_sample(line, number))
    return Exposition(samples, types)


def _sample(line: str, number: int) -> Sample:
    where = f"line {number}: {line}"
    name = METRIC_NAME.match(line)
    assert name, where
    at, labels = name.end(), dict[str, str]()
    if line[at : at + 1] == "{":
        at += 1
        while True:
            at = _blanks(line, at)
            if line[at : at + 1] == "}":
                at += 1
                break
            label = LABEL_NAME.match(line, at)
            assert label and line[label.end() : label.end() + 2] == '="', where
            value, at = _label_value(line, label.end() + 2, where)
            assert label.group() not in labels, where
            labels[label.group()] = value
            at = _blanks(line, at)
            assert line[at : at + 1] in {",", "}"}, where
            if line[at] == ",":
                at += 1
    rest = line[at:].split()
    assert rest and line[at : at + 1] in {" ", "\t"} and len(rest) <= 2, where
    if len(rest) == 2:
        int(rest[1])  # the timestamp, milliseconds since the epoch
    return Sample(name.group(), labels, float(rest[0]))  # NaN, +Inf and -Inf too


def _blanks(line: str, at: int) -> int:
    """Where the blanks (spaces, tabs) starting at `at` end."""
    while line[at : at + 1] in {" ", "\t"}:
        at += 1
    return at


def _label_value(line: str, at: int, where: str) -> tuple[str, int]:
    """A quoted label value starting after its `"`: the value, and where it ends."""
    value = ""
    while True:
        assert at < len(line), where
        char = line[at]
        if char == '"':
            return value, at + 1
        if char == "\\":
            assert line[at + 1 : at + 2] in ESCAPES, where
            value += ESCAPES[line[at + 1]]
            at += 2
        else:
            value += char
            at += 1


def promtool_families(text: str) -> dict[str, int]:
    """The families promtool reads in a scrape (`check metrics --extended`, expfmt's text
    parser), with their cardinality: a counter's or gauge's samples, a histogram's buckets plus
    its sum and count per series."""
    done = subprocess.run(
        [str(bin_dir() / "promtool"), "check", "metrics", "--extended", "--lint=none"],
        input=text, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    rows = [line.split() for line in done.stdout.splitlines()]
    assert rows[0][:2] == ["Metric", "Cardinality"] and rows[-1][0] == "Total", done.stdout
    return {row[0]: int(row[1]) for row in rows[1:-1]}


# -- the servers -------------------------------------------------------------------------------


@dataclasses.dataclass
class Scrape:
    text: str
    exposition: Exposition


def _proxy(names: Names, root: Path, upstream_ca: str, label: str, binary: str) -> Scrape:
    """A cache pulling through the upstream (`proxy.remoteurl` standing in for MSR's downstream,
    trusting the upstream's CA as `downstream.cas` says), run by `binary`; the image pulled
    through it twice, the second time once its blobs are stored (a hit); its /metrics then."""
    host = f"{label}.example.com"
    args = {"hosts": [host], "port": 30443, "tls_key_algorithm": "ECDSA", "metrics": True,
            "upstreams": [f"https://{ORIGIN}"], "upstream_ca_cert": upstream_ca}  # fmt: skip
    d = cache(args, name=label)
    pod = lay_out(d, root / label)
    server = pull_through(pod, label, names.env, binary)
    try:
        names.route(f"{host}:30443", pod.port)
        ca = cert_dir(root / f"{label}-ca", d.outputs["ca_cert_pem"].value)
        for attempt in ("miss", "hit"):
            pulled = skopeo("copy", "--src-cert-dir", ca, f"docker://{host}:30443/{IMAGE}",
                            f"oci:{root / label}-{attempt}:1", env=names.env, home=root)  # fmt: skip
            assert pulled.returncode == 0, pulled.stderr
            for blob in (root / "image" / "blobs" / "sha256").iterdir():  # stored: a hit next
                assert stored(pod, f"sha256:{blob.name}").exists(), blob.name
        assert pod.metrics_port is not None
        scraped = plain(pod.metrics_port, pod.config["http"]["debug"]["prometheus"]["path"])
        assert scraped.status == 200, scraped
        text = scraped.body.decode()
        return Scrape(text, read_exposition(text))
    finally:
        server.stop()


@pytest.fixture(scope="module")
def scrapes(tools: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Scrape]]:
    """distribution v3's and 2.8.2's /metrics, each a pull-through cache of one 2.8.2 upstream
    (started first: v3 asks its remote's /v2/ as it starts) holding a small image."""
    root = tmp_path_factory.mktemp("metric-names")
    names = Names()
    upstream = cache({"hosts": ["msr.example.com"], "port": 30443}, name="msr")
    pod = lay_out(upstream, root / "msr")
    server = Registry(pod, "msr", without_downstream)
    try:
        names.route(ORIGIN, pod.port)
        ca = upstream.outputs["ca_cert_pem"].value
        oci_image(root / "image", "1", b"counted by the cache's metrics\n")
        pushed = skopeo("copy", "--dest-cert-dir", cert_dir(root / "msr-ca", ca),
                        f"oci:{root / 'image'}:1", f"docker://{ORIGIN}/{IMAGE}",
                        env=names.env, home=root)  # fmt: skip
        assert pushed.returncode == 0, pushed.stderr
        yield {
            V3: _proxy(names, root, ca, "v3", str(bin_dir() / "registry")),
            V2: _proxy(names, root, ca, "v2", REGISTRY),
        }
    finally:
        server.stop()
        names.close()


# -- where else names come from ----------------------------------------------------------------


def _go_constants(source: str) -> dict[str, str]:
    """The string constants of a Go file (`Name = "value"`)."""
    return dict(re.findall(r'^\s*(\w+)\s*=\s*"([^"]*)"', source, re.M))


def _build_fq_name(namespace: str, subsystem: str, name: str) -> str:
    """client_golang's prometheus.BuildFQName (prometheus/metric.go), which component-base's
    metrics.BuildFQName calls: the non-empty parts joined by `_`, nothing without a name."""
    return "_".join(p for p in (namespace, subsystem, name) if p) if name else ""


@pytest.fixture(scope="module")
def kubelet(tools: None) -> set[str]:
    """The kubelet's volume stats: each metrics.BuildFQName of
    pkg/kubelet/metrics/collectors/volume_stats.go, its arguments the constants of
    pkg/kubelet/metrics/metrics.go (the "kubelet" subsystem, the VolumeStats*Key names)."""
    source = module_source("kubernetes") / "pkg/kubelet/metrics"
    constants = _go_constants((source / "metrics.go").read_text())

    def value(argument: str) -> str:
        argument = argument.strip()
        if argument.startswith('"'):
            return json.loads(argument)
        return constants[argument.removeprefix("kubeletmetrics.")]

    collector = (source / "collectors/volume_stats.go").read_text()
    calls = re.findall(r"metrics\.BuildFQName\(([^()]*)\)", collector)
    found = {_build_fq_name(*(value(a) for a in call.split(","))) for call in calls}
    assert found and "" not in found, calls
    return found


@pytest.fixture(scope="module")
def cert_manager(tools: None) -> set[str]:
    """cert-manager's certificate metrics: the names of internal/collectors' prometheus.NewDesc
    (pkg/metrics registers that collector; its package comment lists them unprefixed)."""
    source = module_source("cert-manager") / "internal/collectors"
    found: set[str] = set()
    for go in sorted(source.glob("*.go")):
        if not go.name.endswith("_test.go"):
            found |= set(re.findall(r'prometheus\.NewDesc\(\s*"([^"]+)"', go.read_text()))
    assert found, source
    return found


KUBELET, CERT_MANAGER, PROMETHEUS = "the kubelet", "cert-manager", "Prometheus"


@pytest.fixture(scope="module")
def exporters(
    scrapes: Mapping[str, Scrape], kubelet: set[str], cert_manager: set[str]
) -> dict[str, set[str]]:
    """What each exporter's names are: each server's scrape, the kubelet's volume stats,
    cert-manager's certificate metrics, Prometheus' own."""
    return {
        V3: scrapes[V3].exposition.names, V2: scrapes[V2].exposition.names,
        KUBELET: kubelet, CERT_MANAGER: cert_manager, PROMETHEUS: set(PROMETHEUS_WRITES),
    }  # fmt: skip


# -- the tests ---------------------------------------------------------------------------------


def test_every_query_reads_a_metric_but_a_known_expiry(read: Mapping[Query, set[str]]) -> None:
    # Else the tests below could pass on nothing read.
    known = [monitoring.seconds_left(e) for e in (GENERATED.cert, GENERATED.ca)]
    for query, names in read.items():
        assert bool(names) != any(k in query.expr for k in known), query


def test_the_reader_finds_what_prometheus_parser_finds(scrapes: Mapping[str, Scrape]) -> None:
    for server, scrape in scrapes.items():
        assert scrape.exposition.families() == promtool_families(scrape.text), server


def test_every_metric_the_rules_and_the_dashboard_read_exists(
    read: Mapping[Query, set[str]], exporters: Mapping[str, set[str]]
) -> None:
    # distribution v3 (the first with the pull-through's counters) stands for the cache's image.
    places = (V3, KUBELET, CERT_MANAGER, PROMETHEUS)
    found = {name: [p for p in places if name in exporters[p]] for name in names_of(read)}
    nowhere = sorted(name for name, where in found.items() if not where)
    assert not nowhere, f"read by the rules or the dashboard, exported by nothing: {nowhere}"


def test_the_pulls_the_rules_select_are_counted_by_handler_with_a_code(
    scrapes: Mapping[str, Scrape],
) -> None:
    # The pull errors' query selects handler=~"<PULLS>" and code=~"5..": each handler has
    # samples (the pulls made them), each with a status code; the bytes served, handler="blob".
    s = monitoring.series(cases()[0][0], CLAIM)
    (requests,), (served,) = promql_metrics(
        [monitoring.pull_error_ratio(s), monitoring.bytes_served(s)]
    )
    handlers = monitoring.PULLS.removeprefix("~").split("|")
    for server, scrape in scrapes.items():
        for handler in handlers:
            counted = [x for x in scrape.exposition.of(requests) if x.labels["handler"] == handler]
            assert counted, (server, requests, handler)
            for sample in counted:
                assert re.fullmatch(r"[1-5][0-9][0-9]", sample.labels.get("code", "")), sample
        blobs = [x for x in scrape.exposition.of(served) if x.labels["handler"] == "blob"]
        assert blobs and all(x.value > 0 for x in blobs), (server, served)


def test_a_miss_then_a_hit_make_a_hit_ratio_between_none_and_all(
    scrapes: Mapping[str, Scrape],
) -> None:
    # The hit-ratio query's two sides (`hits / requests`), summed over this one cache's samples.
    sides = monitoring.hit_ratio(monitoring.series(cases()[0][0], CLAIM)).split(" / ")
    assert len(sides) == 2, sides
    exposition = scrapes[V3].exposition
    hits, every = (
        sum(s.value for name in names for s in exposition.of(name))
        for names in promql_metrics(sides)
    )
    assert 0 < hits < every, (hits, every)


def test_distribution_2_8_lacks_exactly_the_hit_ratio_and_bytes_from_msr(
    read: Mapping[Query, set[str]], exporters: Mapping[str, set[str]]
) -> None:
    old = exporters[V2]
    assert not [n for n in old if n.startswith("registry_proxy_")], sorted(old)
    others = exporters[KUBELET] | exporters[CERT_MANAGER] | exporters[PROMETHEUS]
    lacking = names_of(read) - old - others
    s = monitoring.series(cases()[0][0], CLAIM)
    hit_ratio, from_msr = promql_metrics(
        [monitoring.hit_ratio(s), monitoring.bytes_from_upstream(s)]
    )
    assert lacking == hit_ratio | from_msr
    assert lacking <= exporters[V3]
    pull_errors = promql_metrics([monitoring.pull_error_ratio(s)])[0]
    assert pull_errors and pull_errors <= old


# docs/operate.md's table: which series each alert reads, and which server has them.
PLACES: dict[str, Callable[[Mapping[str, set[str]]], set[str]]] = {
    "every scrape": lambda e: e[PROMETHEUS],
    "the kubelet": lambda e: e[KUBELET],
    "cert-manager's metrics": lambda e: e[CERT_MANAGER],
    "Prometheus's clock": lambda e: set(),
    "distribution 2.8 and 3": lambda e: e[V2] & e[V3],
    "distribution 3 only": lambda e: e[V3] - e[V2],
}


def _table() -> list[list[str]]:
    section = OPERATE.read_text().split("## Alerts and their runbooks", 1)[1].split("\n### ")[0]
    rows = [line for line in section.splitlines() if line.startswith("|")]
    assert [c.strip() for c in rows[0].strip("|").split("|")] == ["Alert", "Series", "Present in"]
    return [[c.strip() for c in row.strip("|").split("|")] for row in rows[2:]]


def _documented(cell: str, known: Iterable[str]) -> tuple[set[str], set[str]]:
    """The names a Series cell gives (backquoted), and those its patterns (`x_*`) match."""
    named = [n for n in re.findall(r"`([^`]+)`", cell) if re.fullmatch(r"[a-zA-Z_:][\w:]*\*?", n)]
    exact = {n for n in named if not n.endswith("*")}
    matched = {k for n in named if n.endswith("*") for k in fnmatch.filter(known, n)}
    return exact, exact | matched


def test_the_docs_table_says_what_each_alert_reads_and_which_server_has_it(
    read: Mapping[Query, set[str]], exporters: Mapping[str, set[str]]
) -> None:
    known = set[str]().union(*exporters.values())
    alerts = {q.where for q in read if q.alert}
    listed: set[str] = set()
    for alert_cell, series, present in _table():
        row = set(alert_cell.replace(" ", "").split(","))
        listed |= row
        reads = set[str]().union(
            *(names for q, names in read.items() if q.alert and q.where in row)
        )
        exact, documented = _documented(series, known)
        assert exact <= reads <= documented, (row, sorted(reads), series)
        places = [p for p in PLACES if p in present]
        assert places, f"{present!r}: none of {list(PLACES)}"
        there = set[str]().union(*(PLACES[p](exporters) for p in places))
        assert reads <= there, (row, present, sorted(reads - there))
    assert listed == alerts
