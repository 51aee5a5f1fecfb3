"""The alerts, judged by Prometheus' own promtool (Prometheus 3.16.0, built by `make toolchain`).

`promtool check rules` passes on every rendered PrometheusRule's spec (a Prometheus rule file, as
the Prometheus Operator hands it on), and refuses a broken one. `promtool test rules` evaluates
the rules that `monitoring.rule_spec` makes over series labelled as the real scrapes label them
(the cache's ServiceMonitor: job `<name>-metrics` and the pod's namespace; the kubelet's volume
stats; cert-manager's metric), and compares the alerts that fire with the expected ones, labels
and annotations exactly. promtool's clock starts at 0 (1970-01-01), or at a test's
start_timestamp: the certificates' tests start it 15 days before the expiry.
"""

from __future__ import annotations

import copy
import datetime
import re
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from harness import unavailable

from components.inputs.settings import parse
from components.objects.monitoring import Expiries, rule_spec
from toolchain import bin_dir

NAMESPACE, NAME = "registry", "asia-cache"
JOB = f"{NAME}-metrics"  # the metrics Service, whose name a ServiceMonitor's targets take as job
CLAIM = f"{NAME}-data"
ROUTING = {"team": "registry"}  # alertLabels, for Alertmanager's routes
SETTINGS: dict[str, Any] = {
    "name": NAME,
    "namespace": NAMESPACE,
    "upstreams": ["https://msr.example.com"],
    "hosts": ["node1.example.com"],
    "port": 30443,
    "replicas": 2,
    "storageSize": "1Gi",
    "storageAccessMode": "ReadWriteMany",
    "metrics": True,
    "serviceMonitor": True,
    "alertLabels": ROUTING,
}
FAR = Expiries("2100-01-01T00:00:00Z", "2100-01-01T00:00:00Z")
# An expiry, and the certificates' tests' time 0: 15 days before it. With alertCertificateDays'
# default, 14, the alert's window opens on their day 1; LATER is past all they evaluate.
EXPIRY, LATER = "2027-12-07T10:00:00Z", "2036-12-05T10:00:00Z"
EXPIRY_UNIX = int(datetime.datetime.fromisoformat(EXPIRY).timestamp())
START = EXPIRY_UNIX - 15 * 86400


def cache_alert(severity: str) -> dict[str, str]:
    """The labels of an alert on the cache's own series (summed by namespace and job)."""
    return {"severity": severity, **ROUTING, "namespace": NAMESPACE, "job": JOB}


def pod(n: int) -> dict[str, str]:
    """The target labels the cache's ServiceMonitor gives pod `n`'s series."""
    return {
        "job": JOB,
        "namespace": NAMESPACE,
        "service": JOB,
        "endpoint": "metrics",
        "pod": f"{NAME}-7c9f8d6b5-{n}q2xz",
        "container": "dtr-cache",
        "instance": f"10.42.{n}.17:5001",
    }


# kube-prometheus-stack's kubelet ServiceMonitor keeps the kubelet's own namespace label.
KUBELET = {
    "job": "kubelet",
    "service": "kube-prometheus-stack-kubelet",
    "endpoint": "https-metrics",
    "metrics_path": "/metrics",
    "instance": "192.168.1.21:10250",
    "node": "node1",
    "namespace": NAMESPACE,
    "persistentvolumeclaim": CLAIM,
}
# What the volume alerts keep of them: the claim, one alert however many nodes mount it.
CLAIM_LABELS = {"namespace": NAMESPACE, "persistentvolumeclaim": CLAIM}
# cert-manager's controller: its series' own labels, then its scrape target's.
ISSUER = {"kind": "ClusterIssuer", "name": "internal-ca"}
CERTIFICATE = {
    "name": NAME,  # the Certificate is named as the cache
    "issuer_name": ISSUER["name"],
    "issuer_kind": ISSUER["kind"],
    "issuer_group": "cert-manager.io",
}
CERT_MANAGER_TARGET = {
    "job": "cert-manager",
    "service": "cert-manager",
    "endpoint": "tcp-prometheus-servicemonitor",
    "pod": "cert-manager-5d7f97b46d-x2kqp",
    "container": "cert-manager-controller",
    "instance": "10.42.0.5:9402",
}


# -- helpers -----------------------------------------------------------------------------------


def promtool(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    tool = bin_dir() / "promtool"
    if not tool.exists():
        unavailable(
            f"not built: promtool (in {bin_dir()}): run `make toolchain` "
            "(or `.venv/bin/python -m toolchain build prometheus`)"
        )
    return subprocess.run(
        [str(tool), *args], cwd=cwd, capture_output=True, text=True, timeout=300, check=False
    )


def said(result: subprocess.CompletedProcess[str]) -> str:
    return f"promtool exited {result.returncode}:\n{result.stdout}{result.stderr}"


def spec_of(expiries: Expiries = FAR, **changes: Any) -> dict[str, Any]:
    """The rule file the component makes for SETTINGS with `changes`."""
    return rule_spec(parse({**SETTINGS, **changes}), CLAIM, expiries)


def rule(spec: dict[str, Any], alert: str) -> dict[str, Any]:
    (found,) = [r for g in spec["groups"] for r in g["rules"] if r.get("alert") == alert]
    return found


def series(metric: str, values: str, labels: dict[str, str]) -> dict[str, str]:
    """An input series in promtool's notation (`a+bxn`: n steps from a, b apart)."""
    body = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    return {"series": f"{metric}{{{body}}}", "values": values}


def rendered_annotations(alerting: dict[str, Any], value: str | None) -> dict[str, str]:
    """The rule's annotations as Prometheus renders them when `{{ $value }}` (through whichever
    function the rule pipes it to) reads `value`."""
    rendered = dict(alerting["annotations"])
    template = re.compile(r"\{\{ \$value(?: \| \w+)? \}\}")
    templated = [k for k, text in rendered.items() if template.search(text)]
    assert len(templated) == (value is not None), (alerting["alert"], templated)
    for key in templated:
        rendered[key] = template.sub(lambda _: str(value), rendered[key])
    assert not any("{{" in text for text in rendered.values()), rendered
    return rendered


def fires(
    spec: dict[str, Any], alert: str, at: str, labels: dict[str, str], value: str | None = None
) -> dict[str, Any]:
    """A case: at `at`, `alert` fires once, with exactly `labels` and its annotations rendered
    with `value`."""
    expected = {
        "exp_labels": labels,
        "exp_annotations": rendered_annotations(rule(spec, alert), value),
    }
    return {"eval_time": at, "alertname": alert, "exp_alerts": [expected]}


def silent(spec: dict[str, Any], alert: str, at: str) -> dict[str, Any]:
    """A case: at `at`, `alert` does not fire. promtool finds nothing of an alert the file lacks,
    so the rule must be there."""
    rule(spec, alert)
    return {"eval_time": at, "alertname": alert, "exp_alerts": []}


def promtool_test(
    tmp_path: Path,
    spec: dict[str, Any],
    inputs: list[dict[str, str]],
    cases: list[dict[str, Any]],
    start: int = 0,
) -> None:
    """`promtool test rules` over `spec` as the rule file: the series `inputs`, a sample a minute
    from time 0 (`start`, in Unix seconds), the rules evaluated every minute."""
    tmp_path.mkdir(exist_ok=True)
    (tmp_path / "rules.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    test = {"interval": "1m", "input_series": inputs, "alert_rule_test": cases}
    if start:
        test["start_timestamp"] = str(start)
    tests = {"rule_files": ["rules.yaml"], "evaluation_interval": "1m", "tests": [test]}
    (tmp_path / "tests.yaml").write_text(yaml.safe_dump(tests, sort_keys=False))
    result = promtool("test", "rules", "tests.yaml", cwd=tmp_path)
    assert result.returncode == 0, said(result)


def requests(values: dict[tuple[str, str], str], target: dict[str, str]) -> list[dict[str, str]]:
    """distribution's registry_http_requests_total, by (handler, code), of GET requests."""
    return [
        series(
            "registry_http_requests_total",
            counts,
            {**target, "handler": handler, "code": code, "method": "GET"},
        )
        for (handler, code), counts in values.items()
    ]


def proxy(hits: str, every: str, target: dict[str, str]) -> list[dict[str, str]]:
    """distribution v3's pull-through counters, of blobs."""
    return [
        series("registry_proxy_hits_total", hits, {**target, "type": "blob"}),
        series("registry_proxy_requests_total", every, {**target, "type": "blob"}),
    ]


def volume(available: str, capacity: str = "1000000000x200") -> list[dict[str, str]]:
    """The kubelet's stats of the claim's volume, in bytes."""
    return [
        series("kubelet_volume_stats_capacity_bytes", capacity, KUBELET),
        series("kubelet_volume_stats_available_bytes", available, KUBELET),
    ]


@pytest.fixture(scope="module")
def rule_files(rendered: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Each rendered stack's PrometheusRules, their specs written as Prometheus rule files."""
    out = tmp_path_factory.mktemp("rule-files")
    files: list[Path] = []
    for stack, folder in sorted(rendered.items()):
        for manifest in sorted((folder / "1-manifest").glob("*.yaml")):
            obj = yaml.safe_load(manifest.read_text())
            if obj["kind"] == "PrometheusRule":
                path = out / f"{stack}-{obj['metadata']['name']}.yaml"
                path.write_text(yaml.safe_dump(obj["spec"], sort_keys=False))
                files.append(path)
    return files


# -- check rules -------------------------------------------------------------------------------


def test_promtool_accepts_every_rendered_rule_file(rule_files: list[Path]) -> None:
    assert rule_files, "no rendered stack has a PrometheusRule"
    result = promtool("check", "rules", *map(str, rule_files), cwd=rule_files[0].parent)
    assert result.returncode == 0, said(result)
    for path in rule_files:
        count = sum(len(g["rules"]) for g in yaml.safe_load(path.read_text())["groups"])
        assert f"Checking {path}\n  SUCCESS: {count} rules found" in result.stdout, said(result)


def test_promtools_lint_finds_nothing_in_the_rendered_rule_files(rule_files: list[Path]) -> None:
    assert rule_files, "no rendered stack has a PrometheusRule"
    lint = ("check", "rules", "--lint=all", "--lint-fatal")
    result = promtool(*lint, *map(str, rule_files), cwd=rule_files[0].parent)
    assert result.returncode == 0, said(result)


def _broken_expr(spec: dict[str, Any]) -> None:
    rule(spec, "MsrCacheDown")["expr"] += " )"


def _unknown_template_function(spec: dict[str, Any]) -> None:
    rule(spec, "MsrCachePullsFailing")["annotations"]["description"] = "{{ $value | humanise }}%"


def _duplicate_rule(spec: dict[str, Any]) -> None:
    spec["groups"][0]["rules"].append(copy.deepcopy(rule(spec, "MsrCacheDown")))


@pytest.mark.parametrize(
    ("lint", "breaking", "exit_code", "named"),
    [
        ((), _broken_expr, 1, '"MsrCacheDown": could not parse expression'),
        ((), _unknown_template_function, 1, 'function "humanise" not defined'),
        (("--lint=all", "--lint-fatal"), _duplicate_rule, 3, "1 duplicate rule(s) found"),
    ],
    ids=["broken-expr", "unknown-template-function", "duplicate-rule"],
)
def test_promtool_refuses_a_rule_file_broken_in_a_copy(
    rule_files: list[Path],
    tmp_path: Path,
    lint: tuple[str, ...],
    breaking: Callable[[dict[str, Any]], None],
    exit_code: int,
    named: str,
) -> None:
    """The check above runs: the rendered file, broken, is refused, and promtool says why."""
    spec = yaml.safe_load(rule_files[0].read_text())
    breaking(spec)
    (tmp_path / "broken.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    result = promtool("check", "rules", *lint, "broken.yaml", cwd=tmp_path)
    assert result.returncode == exit_code, said(result)
    assert named in result.stdout + result.stderr, said(result)


def test_a_wrong_expectation_fails_with_promtools_own_output(tmp_path: Path) -> None:
    """The tests below fail when promtool does: a healthy pod is not down."""
    spec = spec_of()
    inputs = [series("up", "1x10", pod(1)), series("up", "1x10", pod(2))]
    case = fires(spec, "MsrCacheDown", "8m", cache_alert("critical"))
    with pytest.raises(AssertionError) as failed:
        promtool_test(tmp_path, spec, inputs, [case])
    assert "alertname: MsrCacheDown, time: 8m" in str(failed.value)
    assert "got:[]" in str(failed.value)


# -- test rules: each alert --------------------------------------------------------------------


@pytest.mark.parametrize("idle", [False, True], ids=["busy", "idle"])
def test_a_healthy_cache_raises_no_alert(tmp_path: Path, idle: bool) -> None:
    """Both pods up, half the volume used and flat; busy: a few server errors and client errors,
    most blobs served from storage; idle: no request at all (no ratio to judge)."""
    spec = spec_of()

    def rate(per_minute: int) -> str:
        """A counter growing by `per_minute` a minute, or not at all when idle."""
        return f"0+{0 if idle else per_minute}x200"

    inputs = [
        series("up", "1x200", pod(1)),
        series("up", "1x200", pod(2)),
        *volume("500000000x200"),
        *requests(
            {
                ("blob", "200"): rate(60),
                ("manifest", "200"): rate(30),
                ("manifest", "404"): rate(6),  # a tag that does not exist: the client's error
                ("blob", "500"): rate(1),  # 1 in 97: under alertPullErrorPercent's 5
            },
            pod(1),
        ),
        *proxy(hits=rate(54), every=rate(60), target=pod(1)),
    ]
    alerts = [r["alert"] for g in spec["groups"] for r in g["rules"]]
    assert len(alerts) == 8
    cases = [silent(spec, alert, at) for at in ("1h30m", "3h") for alert in alerts]
    promtool_test(tmp_path, spec, inputs, cases)


@pytest.mark.parametrize(
    ("ups", "down", "missing"),
    [
        (["1x30", "1x30"], False, False),
        (["1x30", "0x30"], False, True),
        (["0x30", "0x30"], True, False),
        ([], True, False),  # the targets are gone: no `up` at all
    ],
    ids=["2-of-2", "1-of-2", "0-of-2", "no-target"],
)
def test_down_fires_when_no_pod_answers_and_replicas_missing_when_some_do_not(
    tmp_path: Path, ups: list[str], down: bool, missing: bool
) -> None:
    spec = spec_of()
    inputs = [series("up", values, pod(n)) for n, values in enumerate(ups, start=1)]
    at = "20m"  # after both alerts' `for` (5m, 15m)
    cases = [
        fires(spec, "MsrCacheDown", at, cache_alert("critical"))
        if down
        else silent(spec, "MsrCacheDown", at),
        fires(spec, "MsrCacheReplicasMissing", at, cache_alert("warning"), value="1")
        if missing
        else silent(spec, "MsrCacheReplicasMissing", at),
    ]
    promtool_test(tmp_path, spec, inputs, cases)


def test_volume_almost_full_fires_over_the_threshold_with_the_kubelets_labels(
    tmp_path: Path,
) -> None:
    spec = spec_of()
    inputs = volume("50000000x200")  # 95% used, over alertVolumeUsedPercent's 90
    labels = {**CLAIM_LABELS, "severity": "critical", **ROUTING}
    cases = [fires(spec, "MsrCacheVolumeAlmostFull", "10m", labels, value="95")]
    promtool_test(tmp_path, spec, inputs, cases)


@pytest.mark.parametrize(
    ("available", "full"),
    [
        ("900000000-200000x200", True),  # 200 kB a minute: full in about 3 days
        ("900000000-100000x200", False),  # 100 kB a minute: full in about 6 days
        ("50000000x200", False),  # flat, however full
    ],
    ids=["full-in-3-days", "full-in-6-days", "flat"],
)
def test_volume_full_in_days_fires_on_a_steady_fill_within_the_days_and_not_on_a_flat_volume(
    tmp_path: Path, available: str, full: bool
) -> None:
    spec = spec_of()
    at = "1h30m"  # after its `for`, 1h
    labels = {**CLAIM_LABELS, "severity": "warning", **ROUTING}
    case = (
        fires(spec, "MsrCacheVolumeFullInDays", at, labels)
        if full
        else silent(spec, "MsrCacheVolumeFullInDays", at)
    )
    promtool_test(tmp_path, spec, volume(available), [case])


@pytest.mark.parametrize(
    ("code", "failing"), [("500", True), ("404", False)], ids=["server-errors", "client-errors"]
)
def test_pulls_failing_fires_on_server_errors_of_blobs_and_manifests(
    tmp_path: Path, code: str, failing: bool
) -> None:
    spec = spec_of()
    counts = {("blob", "200"): "0+54x30", ("blob", code): "0+6x30"}  # 6 in 60: 10%, over 5%
    inputs = [*requests(counts, pod(1)), *requests(counts, pod(2))]
    at = "15m"  # after its `for`, 10m
    case = (
        fires(spec, "MsrCachePullsFailing", at, cache_alert("warning"), value="10")
        if failing
        else silent(spec, "MsrCachePullsFailing", at)
    )
    promtool_test(tmp_path, spec, inputs, [case])


def test_hit_ratio_low_is_information_when_most_requests_go_to_msr(tmp_path: Path) -> None:
    spec = spec_of()
    inputs = [*proxy("0+12x150", "0+60x150", pod(1)), *proxy("0+12x150", "0+60x150", pod(2))]
    at = "1h30m"  # after its `for`, 1h
    case = fires(spec, "MsrCacheHitRatioLow", at, cache_alert("info"), value="20")
    promtool_test(tmp_path, spec, inputs, [case])


# -- test rules: the certificates --------------------------------------------------------------

EXPIRING = [
    ("MsrCacheCertificateExpiring", Expiries(EXPIRY, LATER)),
    ("MsrCacheCaExpiring", Expiries(LATER, EXPIRY)),
]
EXPIRY_ALERT = {"severity": "warning", **ROUTING, "namespace": NAMESPACE}


@pytest.mark.parametrize(("alert", "expiries"), EXPIRING, ids=["certificate", "ca"])
def test_a_known_expiry_fires_alert_certificate_days_before_it_and_not_a_day_earlier(
    tmp_path: Path, alert: str, expiries: Expiries
) -> None:
    """From 15 days before the expiry: the window opens 14 days before it (day 1), and the alert
    fires once its `for` (1h) has passed; a day earlier it is silent."""
    spec = spec_of(expiries)
    cases = [
        silent(spec, alert, "2h"),
        silent(spec, alert, "1d"),  # 14 days left: not fewer
        silent(spec, alert, "1d1h"),  # pending: its `for` has not passed
        fires(spec, alert, "1d2h", EXPIRY_ALERT, value="13d 22h 0m 0s"),
    ]
    promtool_test(tmp_path, spec, [], cases, start=START)


@pytest.mark.parametrize(("alert", "expiries"), EXPIRING, ids=["certificate", "ca"])
def test_a_renewed_certificate_moves_the_expiry_and_the_alert_stops(
    tmp_path: Path, alert: str, expiries: Expiries
) -> None:
    """`pulumi up` writes the renewed certificate's expiry into the rule."""
    renewed = Expiries(
        *(LATER if when == EXPIRY else when for when in (expiries.cert, expiries.ca))
    )
    assert renewed != expiries
    expiring, after_renewal = spec_of(expiries), spec_of(renewed)
    firing = fires(expiring, alert, "1d2h", EXPIRY_ALERT, value="13d 22h 0m 0s")
    promtool_test(tmp_path / "expiring", expiring, [], [firing], start=START)
    quiet = silent(after_renewal, alert, "1d2h")
    promtool_test(tmp_path / "renewed", after_renewal, [], [quiet], start=START)


# honorLabels true: the series keep cert-manager's namespace label, the Certificate's. false,
# the default of cert-manager's chart (its ServiceMonitor and PodMonitor): Prometheus gives
# `namespace` the target's, cert-manager's own, and moves the series' to `exported_namespace`.
HONORED = {**CERT_MANAGER_TARGET, **CERTIFICATE, "namespace": NAMESPACE}
CHART_DEFAULT = {
    **CERT_MANAGER_TARGET,
    **CERTIFICATE,
    "namespace": "cert-manager",
    "exported_namespace": NAMESPACE,
}


@pytest.mark.parametrize(
    "scraped",
    [
        pytest.param(HONORED, id="honor-labels"),
        pytest.param(CHART_DEFAULT, id="chart-default"),
    ],
)
def test_with_cert_manager_the_alert_reads_its_metric_and_a_renewal_stops_it(
    tmp_path: Path, scraped: dict[str, str]
) -> None:
    """From 15 days before the expiry, which cert-manager's metric gives until it renews the
    certificate, at 1d2h01m, for 90 days."""
    spec = spec_of(Expiries("", ""), certManagerIssuer=ISSUER)
    assert [r["alert"] for r in spec["groups"][0]["rules"]].count("MsrCacheCaExpiring") == 0
    values = f"{EXPIRY_UNIX}x1560 {EXPIRY_UNIX + 90 * 86400}x30"
    expiry = series("certmanager_certificate_expiration_timestamp_seconds", values, scraped)
    labels = {**scraped, "severity": "warning", **ROUTING, "namespace": NAMESPACE}
    alert = "MsrCacheCertificateExpiring"
    cases = [
        silent(spec, alert, "2h"),
        fires(spec, alert, "1d2h", labels, value="13d 22h 0m 0s"),
        silent(spec, alert, "1d2h10m"),  # renewed
    ]
    promtool_test(tmp_path, spec, [expiry], cases, start=START)


def test_another_namespaces_certificate_of_the_same_name_is_not_the_caches(
    tmp_path: Path,
) -> None:
    """cert-manager run in the cache's namespace, scraped without honorLabels: a Certificate of
    the cache's name in another namespace keeps its namespace as exported_namespace only."""
    spec = spec_of(Expiries("", ""), certManagerIssuer=ISSUER)
    elsewhere = {**CERT_MANAGER_TARGET, **CERTIFICATE, "namespace": NAMESPACE,
                 "exported_namespace": "elsewhere"}  # fmt: skip
    values = f"{EXPIRY_UNIX}x1560"
    expiry = series("certmanager_certificate_expiration_timestamp_seconds", values, elsewhere)
    cases = [silent(spec, "MsrCacheCertificateExpiring", "1d2h")]
    promtool_test(tmp_path, spec, [expiry], cases, start=START)


def test_a_claim_every_node_reports_raises_one_alert(tmp_path: Path) -> None:
    """A ReadWriteMany claim mounted on two nodes: each kubelet reports it."""
    spec = spec_of()
    other = {**KUBELET, "instance": "192.168.1.22:10250", "node": "node2"}
    inputs = [
        *volume("50000000x200"),
        series("kubelet_volume_stats_capacity_bytes", "1000000000x200", other),
        series("kubelet_volume_stats_available_bytes", "60000000x200", other),
    ]
    labels = {**CLAIM_LABELS, "severity": "critical", **ROUTING}
    cases = [fires(spec, "MsrCacheVolumeAlmostFull", "10m", labels, value="95")]
    promtool_test(tmp_path, spec, inputs, cases)
