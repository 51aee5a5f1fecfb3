"""The cache's alerts and dashboard (issue 27) through the real `pulumi up` into a real API server
(tests/engine/cluster.py, which installs the Prometheus Operator's released PrometheusRule and
ServiceMonitor CRDs of v0.93.0, as toolchain/tools.toml pins them).

One stack, a cache with metrics, a ServiceMonitor and a volume (so every alert of a generated
certificate exists, the volume's too), routing and selector labels, and its dashboard in a
namespace of Grafana's: the API server admits the PrometheusRule, which holds the alerts
`monitoring.rule_spec` makes for the claim's generated name and for the expiry of the
certificates the tls provider made (read from them, and from the stack's outputs); the rule and
the ServiceMonitor carry the selector labels; the dashboard's ConfigMap is in Grafana's
namespace, labelled for its sidecar, its file the dashboard's JSON. Day 2 on the same stack: a
threshold changed is an update of the PrometheusRule alone in the preview, in place in `up`, and
then nothing is left to do.

Then the CRD's own schema: a rule whose `for` its pattern refuses is refused by the API server,
so the CRD installed is the one that judges (and the offline render's vendored copy of it,
tests/render/crds, stands in for it).

What this cannot prove: no Prometheus loads the rule (promtool checks its PromQL: tests/unit),
no Grafana sidecar loads the dashboard, and kwok runs no kubelet, so no volume stats exist.
"""

from __future__ import annotations

import base64
import copy
import datetime
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cluster import Cluster
from cryptography import x509
from harness import ROOT, unavailable
from pulumi_cli import Project, Stack, require_tools
from test_pulumi_up import previewed

from components.inputs.settings import Settings, parse
from components.objects import dashboard, monitoring
from components.objects import registry_config as rc
from components.objects.monitoring import Expiries

POLICY = ("--policy-pack", str(ROOT / "policy"))
# The test runs the CLI several times: bounded by each run's own timeout, not the suite's.
pytestmark = pytest.mark.timeout(900)
# kubectl's full names of the custom resources' kinds, so no short name of another CRD is taken.
RULES = "prometheusrules.monitoring.coreos.com"
SERVICE_MONITORS = "servicemonitors.monitoring.coreos.com"
NAMESPACE = "monitoring-up"
DASHBOARDS = "grafana-dashboards"  # where a Grafana sidecar would look, made by its chart
MONITORING_LABELS = {"release": "kube-prometheus-stack"}
ALERT_LABELS = {"team": "registry"}
CONFIG: dict[str, Any] = {
    "upstreams": ["https://msr.example.com"],
    "namespace": NAMESPACE,
    "hosts": ["node0.monitoring.example.test"],
    "port": 30470,
    "storageSize": "1Gi",
    "metrics": True,
    "serviceMonitor": True,
    "monitoringLabels": MONITORING_LABELS,
    "alertLabels": ALERT_LABELS,
    "dashboardNamespace": DASHBOARDS,
}
# The alerts of an expiry the deployment knows: `vector(<unix time> - time()) < <seconds>`.
KNOWN_EXPIRY = re.compile(r"vector\((\d+) - time\(\)\) < (\d+)")


def rules_served(cluster: Cluster) -> None:
    """Unavailable on a cluster (of MSR_CACHE_KUBECONFIG) without the PrometheusRule CRD."""
    served = {crd["metadata"]["name"] for crd in cluster.get("crd")["items"]}
    missing = [crd for crd in (RULES, SERVICE_MONITORS) if crd not in served]
    if missing:
        unavailable(f"the cluster of {cluster.kubeconfig} lacks the CRDs {', '.join(missing)} "
                    "(tests/engine/cluster.py installs them, as tools.toml pins them)")  # fmt: skip


@pytest.fixture
def stack(cluster: Cluster, tmp_path: Path) -> Iterator[Stack]:
    """The stack, destroyed if a failed test leaves it deployed, and Grafana's namespace, which
    exists before it (as the chart makes it) and is deleted after."""
    require_tools()
    rules_served(cluster)
    project = Project(tmp_path / "project", env={"KUBECONFIG": str(cluster.kubeconfig)})
    cluster.apply([{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": DASHBOARDS}}])
    made = project.stack("monitoring", CONFIG)
    yield made
    if made.live:
        made.destroy(check=False)
    cluster.kubectl("delete", "namespace", DASHBOARDS, "--wait=false", check=False)


def unix(rfc3339: str) -> int:
    return int(datetime.datetime.fromisoformat(rfc3339).timestamp())


def by_alert(rule: dict[str, Any]) -> dict[str, dict[str, Any]]:
    (group,) = rule["spec"]["groups"]
    return {r["alert"]: r for r in group["rules"]}


def known_expiry(alert: dict[str, Any]) -> tuple[int, int]:
    """(the unix time, the seconds before it) an expiry alert's expr holds."""
    match = KNOWN_EXPIRY.fullmatch(alert["expr"])
    assert match, alert["expr"]
    return int(match[1]), int(match[2])


class Deployed:
    """The cache's monitoring objects as the API server holds them after `pulumi up`."""

    def __init__(self, cluster: Cluster, stack: Stack, settings: Settings) -> None:
        self.outputs = stack.outputs()
        namespace = self.outputs["namespace"]
        assert namespace == NAMESPACE
        pod = cluster.get("deployment", settings.name, namespace)["spec"]["template"]["spec"]
        (self.claim,) = [
            v["persistentVolumeClaim"]["claimName"]
            for v in pod["volumes"]
            if "persistentVolumeClaim" in v
        ]
        (secret,) = [v["secret"]["secretName"] for v in pod["volumes"] if "secret" in v]
        pem = base64.b64decode(cluster.get("secret", secret, namespace)["data"][rc.CERT_FILE])
        self.served = x509.load_pem_x509_certificate(pem)
        self.ca = x509.load_pem_x509_certificate(self.outputs["caCertPem"].encode())
        self.rule = cluster.get(RULES, settings.name, namespace)
        self.monitor = cluster.get(SERVICE_MONITORS, settings.name, namespace)
        self.expiries = Expiries(self.outputs["certExpiresAt"], self.outputs["caExpiresAt"])


def check_rule(seen: Deployed, settings: Settings) -> None:
    """The rule holds what `rule_spec` makes for the claim the provider named and the expiry the
    stack outputs, which is the expiry of the certificates the cache serves and publishes."""
    expected = monitoring.rule_spec(settings, seen.claim, seen.expiries)
    assert seen.rule["spec"] == expected
    alerts = by_alert(seen.rule)
    assert {"MsrCacheVolumeAlmostFull", "MsrCacheVolumeFullInDays"} <= set(alerts)
    for name in ("MsrCacheVolumeAlmostFull", "MsrCacheVolumeFullInDays"):
        assert f'persistentvolumeclaim="{seen.claim}"' in alerts[name]["expr"], alerts[name]
    for alert in alerts.values():
        assert alert["labels"].items() >= ALERT_LABELS.items(), alert
    days = settings.alert_certificate_days
    assert days is not None  # its default applies with alerts
    within = days * monitoring.DAY
    expiries = {"MsrCacheCertificateExpiring": (seen.outputs["certExpiresAt"], seen.served),
                "MsrCacheCaExpiring": (seen.outputs["caExpiresAt"], seen.ca)}  # fmt: skip
    for name, (output, certificate) in expiries.items():
        at = known_expiry(alerts[name])
        assert at == (unix(output), within), (name, at, output)
        assert at[0] == int(certificate.not_valid_after_utc.timestamp()), name


def test_the_alerts_and_dashboard_are_admitted_and_a_threshold_changes_the_rule_alone(
    cluster: Cluster, stack: Stack
) -> None:
    settings = parse(CONFIG)
    stack.up(*POLICY, preview=True)
    seen = Deployed(cluster, stack, settings)
    check_rule(seen, settings)
    assert seen.rule["metadata"]["generation"] == 1
    # The Prometheus Operator's selectors find both.
    for obj in (seen.rule, seen.monitor):
        assert obj["metadata"]["labels"].items() >= MONITORING_LABELS.items(), obj["metadata"]

    # The dashboard, in Grafana's namespace alone, labelled for its sidecar: one JSON file, the
    # dashboard of this cache's claim and certificates.
    name = f"msr-cache-{NAMESPACE}-{settings.name}"
    config_map = cluster.get("configmap", name, DASHBOARDS)
    assert config_map["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert not cluster.kubectl("get", "configmap", name, f"--namespace={NAMESPACE}",
                               "--ignore-not-found")  # fmt: skip
    ((file, text),) = config_map["data"].items()
    assert file == dashboard.dashboard_file(settings) and file.endswith(".json")
    model = json.loads(text)
    assert model == dashboard.dashboard(settings, seen.claim, seen.expiries)
    assert model["uid"] == dashboard.dashboard_uid(settings)
    queries = [t["expr"] for panel in model["panels"] for t in panel.get("targets", [])]
    assert any(f'persistentvolumeclaim="{seen.claim}"' in q for q in queries), queries

    # Day 2: a threshold changed updates the rule in place, and nothing else.
    changed = {**CONFIG, "alertPullErrorPercent": 10}
    before = by_alert(seen.rule)["MsrCachePullsFailing"]["expr"]
    assert before.endswith(f"> {settings.alert_pull_error_percent}"), before
    stack.set_config(changed)
    ops, _ = previewed(stack)
    assert ops == {"PrometheusRule": "update"}, ops
    stack.up(*POLICY)
    settings = parse(changed)
    after = Deployed(cluster, stack, settings)
    assert after.rule["metadata"]["uid"] == seen.rule["metadata"]["uid"]
    assert after.rule["metadata"]["generation"] == 2
    assert by_alert(after.rule)["MsrCachePullsFailing"]["expr"].endswith("> 10")
    check_rule(after, settings)
    assert cluster.get("configmap", name, DASHBOARDS)["data"] == config_map["data"]
    stack.preview("--expect-no-changes", *POLICY)

    stack.destroy()
    assert not cluster.get(RULES, namespace=NAMESPACE)["items"]
    assert not cluster.get(SERVICE_MONITORS, namespace=NAMESPACE)["items"]
    assert not cluster.kubectl("get", "configmap", name, f"--namespace={DASHBOARDS}",
                               "--ignore-not-found")  # fmt: skip


def test_the_crd_refuses_a_rule_whose_for_its_pattern_refuses(cluster: Cluster) -> None:
    """The schema of the CRD installed judges: the rule as made is admitted (a server-side dry
    run), and the same with a `for` out of its duration pattern is refused, naming the field."""
    rules_served(cluster)
    settings = parse(CONFIG)
    expires = (datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=90)).isoformat()
    rule: dict[str, Any] = {
        "apiVersion": monitoring.RULE_API_VERSION,
        "kind": "PrometheusRule",
        "metadata": {"name": "crd-judges", "namespace": "default"},
        "spec": monitoring.rule_spec(settings, "a-claim", Expiries(expires, expires)),
    }
    dry_run = ("apply", "--server-side", "--dry-run=server", "--filename=-")
    cluster.kubectl(*dry_run, stdin=json.dumps(rule))
    refused = copy.deepcopy(rule)
    refused["spec"]["groups"][0]["rules"][0]["for"] = "5 minutes"
    field = re.escape('spec.groups[0].rules[0].for: Invalid value: "5 minutes"')
    with pytest.raises(AssertionError, match=f"(?s){field}.*should match"):
        cluster.kubectl(*dry_run, stdin=json.dumps(refused))
    assert not cluster.get(RULES, namespace="default")["items"]
