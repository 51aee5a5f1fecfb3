"""The Grafana dashboard's JSON model: what Grafana loads from the ConfigMap. Every panel reads
the data source the viewer picks and draws the alerts' own queries (`monitoring`'s, for the same
cache); its uid keeps each cache's dashboard apart; the panels follow what the cache has."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

import pytest
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.cog.plugins import register_default_plugins
from grafana_foundation_sdk.models import prometheus
from grafana_foundation_sdk.models.dashboard import Dashboard as DashboardModel
from grafana_foundation_sdk.models.dashboard import Panel

from components.inputs.settings import Settings, parse
from components.objects import monitoring
from components.objects.dashboard import dashboard, dashboard_file, dashboard_json
from components.objects.monitoring import DAY, Expiries

METRICS: Mapping[str, Any] = {
    "upstreams": ["https://msr.example.com"],
    "hosts": ["node1.example.com"],
    "port": 30443,
    "metrics": True,
}
KNOWN = Expiries("2027-12-07T10:00:00Z", "2036-12-05T10:00:00Z")
CLAIM = "dtr-cache-data-1a2b3c4d"
ISSUER = {"kind": "ClusterIssuer", "name": "internal-ca"}
# Grafana's uids: util.IsValidShortUID's pattern and util.MaxUIDLength
# (grafana/grafana pkg/util/shortid_generator.go).
GRAFANA_UID = re.compile(r"[a-zA-Z0-9\-_]{1,40}")


def settings(**changes: Any) -> Settings:
    return parse({**METRICS, **changes})


def exprs(board: Mapping[str, Any]) -> list[str]:
    return [target["expr"] for panel in board["panels"] for target in panel["targets"]]


def traffic(s: Settings, claim: str | None) -> list[str]:
    """The queries every cache's dashboard draws, as `monitoring` writes them."""
    series = monitoring.series(s, claim)
    return [
        monitoring.requests_rate(series),
        monitoring.pull_error_ratio(series),
        monitoring.hit_ratio(series),
        monitoring.bytes_from_upstream(series),
        monitoring.bytes_served(series),
    ]


def test_every_panel_reads_the_data_source_the_viewer_picks() -> None:
    board = dashboard(settings(storageSize="50Gi"), CLAIM, KNOWN)
    [variable] = board["templating"]["list"]
    # A variable of type datasource listing the Prometheus data sources, whatever their names.
    assert (variable["type"], variable["query"]) == ("datasource", "prometheus")
    assert board["panels"]
    for panel in board["panels"]:
        assert panel["datasource"] == {"type": "prometheus", "uid": f"${{{variable['name']}}}"}
        refs = [target["refId"] for target in panel["targets"]]
        assert panel["targets"] and all(refs) and len(set(refs)) == len(refs), panel["title"]
    ids = [panel["id"] for panel in board["panels"]]
    assert len(set(ids)) == len(ids)


def test_the_panels_draw_the_alerts_queries_of_this_cache() -> None:
    s = settings(namespace="asia", name="cache", storageSize="50Gi")
    series = monitoring.series(s, CLAIM)
    assert exprs(dashboard(s, CLAIM, KNOWN)) == [
        monitoring.replicas_up(series),
        monitoring.seconds_left(KNOWN.cert),
        monitoring.seconds_left(KNOWN.ca),
        *traffic(s, CLAIM),
        monitoring.volume_used_ratio(series),
        monitoring.volume_available_in(series, 4),  # alertVolumeFullDays' default
    ]


def test_bytes_from_msr_and_bytes_served_share_a_panel() -> None:
    s = settings()
    series = monitoring.series(s, None)
    together = [monitoring.bytes_from_upstream(series), monitoring.bytes_served(series)]
    panels = [p for p in dashboard(s, None, KNOWN)["panels"] if exprs({"panels": [p]}) == together]
    assert len(panels) == 1


def test_the_volume_panel_only_with_a_claim() -> None:
    s = settings()
    without = dashboard(s, None, KNOWN)
    assert not [e for e in exprs(without) if "kubelet_volume_stats" in e]
    s = settings(storageSize="50Gi", serviceMonitor=True, alertVolumeFullDays=9)
    series = monitoring.series(s, CLAIM)
    found = exprs(dashboard(s, CLAIM, KNOWN))
    # The forecast looks as far ahead as the alert does.
    assert found[-2:] == [
        monitoring.volume_used_ratio(series),
        monitoring.volume_available_in(series, 9),
    ]
    assert len(dashboard(s, CLAIM, KNOWN)["panels"]) == len(without["panels"]) + 1


def test_cert_manager_s_certificate_expiry_comes_from_its_metric() -> None:
    s = settings(namespace="asia", name="cache", certManagerIssuer=ISSUER)
    found = exprs(dashboard(s, None, KNOWN))
    assert monitoring.cert_manager_seconds_left("asia", "cache") in found
    assert monitoring.seconds_left(KNOWN.cert) not in found
    assert monitoring.seconds_left(KNOWN.ca) in found


@pytest.mark.parametrize(
    ("expiries", "left"),
    [
        (Expiries(KNOWN.cert, ""), [KNOWN.cert]),
        (Expiries("", ""), []),
    ],
)
def test_an_expiry_not_known_has_no_panel(expiries: Expiries, left: list[str]) -> None:
    s = settings()
    series = monitoring.series(s, None)
    expected = [monitoring.seconds_left(e) for e in left]
    board = dashboard(s, None, expiries)
    assert exprs(board) == [monitoring.replicas_up(series), *expected, *traffic(s, None)]
    assert len(board["panels"]) == 1 + len(left) + 4


def test_the_expiry_turns_red_when_the_alert_fires() -> None:
    s = settings(serviceMonitor=True, alertCertificateDays=30)
    for panel in dashboard(s, None, KNOWN)["panels"][1:3]:
        steps = panel["fieldConfig"]["defaults"]["thresholds"]["steps"]
        assert steps == [{"color": "red", "value": None}, {"color": "green", "value": 30 * DAY}]


def test_the_uid_keeps_each_cache_apart_within_grafana_s_limit() -> None:
    long, longest = "n" * 63, "n" * 55  # <name>-metrics is a Service's name too
    caches = [
        settings(namespace="asia", name="cache"),
        settings(namespace="europe", name="cache"),
        # The same words, cut differently: a join of namespace and name alone would be one.
        settings(namespace="a-b", name="c"),
        settings(namespace="a", name="b-c"),
        settings(namespace=long, name=longest),
        settings(namespace=long, name=longest[:-1] + "m"),
    ]
    uids = [dashboard(s, None, KNOWN)["uid"] for s in caches]
    assert all(GRAFANA_UID.fullmatch(uid) for uid in uids), uids
    assert len(set(uids)) == len(uids)
    assert uids[0].startswith("asia-cache-")
    # The Grafana sidecar writes each ConfigMap key to one folder: each cache's file is its own.
    assert len({dashboard_file(s) for s in caches}) == len(caches)


def test_title_and_tags_name_the_cache() -> None:
    board = dashboard(settings(namespace="asia", name="cache"), None, KNOWN)
    assert (board["title"], board["tags"]) == ("MSR cache asia/cache", ["msr-cache"])


def test_the_sdk_reads_back_exactly_the_json_grafana_gets() -> None:
    # The SDK's own decoder (the Grafana 11.6 schema's types) drops what it does not know:
    # every key written is one the schema has, every query a Prometheus query.
    register_default_plugins()
    s = settings(storageSize="50Gi", certManagerIssuer=ISSUER)
    text = dashboard_json(s, CLAIM, KNOWN)
    decoded = DashboardModel.from_json(json.loads(text))
    assert json.loads(JSONEncoder().encode(decoded)) == json.loads(text)
    panels = [p for p in decoded.panels or [] if isinstance(p, Panel)]
    assert len(panels) == len(decoded.panels or [])
    targets = [t for p in panels for t in p.targets or []]
    assert targets and all(isinstance(t, prometheus.Dataquery) for t in targets)


def test_no_two_panels_overlap_on_grafana_s_grid() -> None:
    board = dashboard(settings(storageSize="50Gi"), CLAIM, KNOWN)
    cells = [
        (x, y)
        for panel in board["panels"]
        for x in range(panel["gridPos"]["x"], panel["gridPos"]["x"] + panel["gridPos"]["w"])
        for y in range(panel["gridPos"]["y"], panel["gridPos"]["y"] + panel["gridPos"]["h"])
    ]
    assert len(set(cells)) == len(cells) and max(x for x, _ in cells) < 24
