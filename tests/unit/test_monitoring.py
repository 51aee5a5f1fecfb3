"""The PrometheusRule's alerts and the keys that shape them: which alerts a cache gets, what they
select, and where their runbooks are. That each alert fires when it should, and only then, is
promtool's to say (tests/render/test_promtool.py)."""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from components.inputs.problems import ConfigError
from components.inputs.settings import parse
from components.objects import monitoring
from components.objects.metadata import object_metadata
from components.objects.monitoring import Expiries, rule_spec
from components.objects.plan import plan

OPERATE = Path(__file__).resolve().parents[2] / "docs" / "operate.md"
MONITORED: Mapping[str, Any] = {
    "upstreams": ["https://msr.example.com"],
    "hosts": ["node1.example.com"],
    "port": 30443,
    "metrics": True,
    "serviceMonitor": True,
}
KNOWN = Expiries("2027-12-07T10:00:00Z", "2036-12-05T10:00:00Z")
ISSUER = {"kind": "ClusterIssuer", "name": "internal-ca"}


def alerts(claim: str | None = None, expiries: Expiries = KNOWN, **changes: Any) -> dict[str, Any]:
    spec = rule_spec(parse({**MONITORED, **changes}), claim, expiries)
    (group,) = spec["groups"]
    return {rule["alert"]: rule for rule in group["rules"]}


def test_a_cache_without_a_volume_or_replicas_gets_the_alerts_that_apply_to_it() -> None:
    assert list(alerts()) == [
        "MsrCacheDown",
        "MsrCachePullsFailing",
        "MsrCacheCertificateExpiring",
        "MsrCacheCaExpiring",
        "MsrCacheHitRatioLow",
    ]


def test_the_volume_alerts_watch_the_claim_by_its_generated_name() -> None:
    found = alerts("dtr-cache-data-1a2b3c4d", storageSize="50Gi", alertVolumeUsedPercent=85)
    full, filling = found["MsrCacheVolumeAlmostFull"], found["MsrCacheVolumeFullInDays"]
    claim = 'persistentvolumeclaim="dtr-cache-data-1a2b3c4d"'
    assert claim in full["expr"] and full["expr"].endswith("> 85")
    assert claim in filling["expr"] and f"{4 * 86400})" in filling["expr"]


def test_replicas_missing_compares_with_the_replicas_asked_for() -> None:
    assert "MsrCacheReplicasMissing" not in alerts()
    rule = alerts(replicas=3, objectStorage={"driver": "s3", "region": "r", "bucket": "b"})
    assert " < 3 and " in rule["MsrCacheReplicasMissing"]["expr"]


def test_a_known_expiry_is_written_into_the_rule_so_a_new_certificate_moves_it() -> None:
    before = alerts()["MsrCacheCertificateExpiring"]["expr"]
    renewed = alerts(expiries=Expiries("2028-12-07T10:00:00Z", KNOWN.ca))
    after = renewed["MsrCacheCertificateExpiring"]["expr"]
    days = 14 * 86400
    assert before == f"vector({_unix(2027)} - time()) < {days}"
    assert after == f"vector({_unix(2028)} - time()) < {days}"
    assert alerts(alertCertificateDays=30)["MsrCacheCaExpiring"]["expr"].endswith(f"< {30 * 86400}")


def _unix(year: int) -> int:
    return int(datetime.datetime(year, 12, 7, 10, tzinfo=datetime.UTC).timestamp())


def test_with_cert_manager_the_certificate_alert_reads_its_metric() -> None:
    found = alerts(expiries=Expiries("", ""), certManagerIssuer=ISSUER)
    expr = found["MsrCacheCertificateExpiring"]["expr"]
    # Which series it matches, however cert-manager is scraped: tests/render/test_promtool.py.
    assert "certmanager_certificate_expiration_timestamp_seconds{" in expr
    assert 'name="dtr-cache"' in expr and expr.endswith(f"< {14 * 86400}")
    assert "MsrCacheCaExpiring" not in found  # no tlsCaCert: the CA is cert-manager's issuer's


def test_every_alert_has_a_severity_the_routing_labels_and_a_runbook_that_exists() -> None:
    anchors = {_anchor(h) for h in re.findall(r"^#+ (.+)$", OPERATE.read_text(), re.M)}
    url = "https://git.example.com/p/msr-cache/blob/v1/docs/operate.md"
    found = alerts(
        "claim", replicas=2, storageSize="1Gi", storageAccessMode="ReadWriteMany",
        alertLabels={"team": "registry"}, alertRunbookUrl=url,
    )  # fmt: skip
    assert len(found) == 8
    for name, rule in found.items():
        assert rule["labels"]["severity"] in monitoring.SEVERITIES
        assert rule["labels"]["team"] == "registry"
        base, anchor = rule["annotations"]["runbook_url"].split("#")
        assert base == url and anchor in anchors, name
    assert found["MsrCacheHitRatioLow"]["labels"]["severity"] == "info"  # not a page
    assert alerts()["MsrCacheDown"]["annotations"]["runbook_url"] == (
        "docs/operate.md#msrcachedown"
    )


def _anchor(heading: str) -> str:
    """GitHub's anchor of a heading."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


@pytest.mark.parametrize(
    ("changes", "alerts_on", "dashboard_namespace"),
    [
        ({}, True, "dtr"),
        ({"alerts": False}, False, "dtr"),
        ({"dashboard": False}, True, None),
        ({"dashboardNamespace": "monitoring"}, True, "monitoring"),
        ({"serviceMonitor": False}, False, "dtr"),
        ({"serviceMonitor": False, "metrics": False}, False, None),
    ],
)
def test_the_plan_has_alerts_with_the_service_monitor_and_a_dashboard_with_metrics(
    changes: dict[str, Any], alerts_on: bool, dashboard_namespace: str | None
) -> None:
    p = plan(parse({**MONITORED, **changes}))
    assert (p.alerts, p.dashboard_namespace) == (alerts_on, dashboard_namespace)


@pytest.mark.parametrize(
    ("changes", "key", "said"),
    [
        ({"serviceMonitor": False, "alerts": True}, "alerts", "only with serviceMonitor"),
        ({"alertVolumeUsedPercent": 80}, "alert_volume_used_percent", "with serviceMonitor, alerts "
         "and storageSize"),
        ({"alerts": False, "alertLabels": {"team": "x"}}, "alert_labels", "with serviceMonitor and "
         "alerts"),
        ({"alertLabels": {"severity": "page"}}, "alert_labels", "not alertname or severity"),
        ({"alertLabels": {"__team": "x"}}, "alert_labels", "not starting with __"),
        ({"alertPullErrorPercent": 100}, "alert_pull_error_percent", "from 1 to 99"),
        ({"alertCertificateDays": 0}, "alert_certificate_days", "from 1 to 3650"),
        ({"alertRunbookUrl": "wiki/operate.md"}, "alert_runbook_url", "http(s) URL"),
        ({"alertRunbookUrl": "https://w.example/operate.md#x"}, "alert_runbook_url", "#fragment"),
        ({"monitoringLabels": {"release": "a b"}}, "monitoring_labels", "as the API server"),
        ({"metrics": False, "serviceMonitor": False, "dashboard": True}, "dashboard",
         "only with metrics"),
    ],
)  # fmt: skip
def test_a_wrong_monitoring_key_is_named_as_python_spells_it_with_what_is_accepted(
    changes: dict[str, Any], key: str, said: str
) -> None:
    with pytest.raises(ConfigError) as raised:
        parse({**MONITORED, **changes})
    message = str(raised.value)
    assert f"{key}:" in message and said in message, message


def test_the_operator_selects_the_monitor_and_the_rule_by_the_monitoring_labels() -> None:
    s = parse({**MONITORED, "monitoringLabels": {"release": "kube-prometheus-stack"}})
    p = plan(s)
    own = object_metadata(s, p, "deployment", "dtr")["labels"]
    assert "release" not in own
    for role in ("service-monitor", "alerts"):
        labels = object_metadata(s, p, role, "dtr")["labels"]
        assert labels == {**own, "release": "kube-prometheus-stack"}, role


def test_each_caches_dashboard_has_a_name_of_its_own_where_grafana_looks() -> None:
    s = parse({**MONITORED, "namespace": "asia", "dashboardNamespace": "monitoring"})
    meta = object_metadata(s, plan(s), "dashboard", "asia")
    assert (meta["namespace"], meta["name"]) == ("monitoring", "msr-cache-asia-dtr-cache")
    assert meta["labels"]["grafana_dashboard"] == "1"
