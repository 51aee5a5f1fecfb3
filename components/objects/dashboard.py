"""The cache's Grafana dashboard: its JSON model, built with Grafana's Foundation SDK.

Each panel draws a query of `monitoring` (the alerts' own), over the series of one cache, from
whichever Prometheus data source the viewer picks (a variable listing the prometheus ones), so the
dashboard works whatever the data source is named. Its uid is derived from the cache's namespace
and name, so two caches' dashboards never replace each other in Grafana.
"""

from __future__ import annotations

import hashlib
import json
import string
from typing import Any, TypeVar

from grafana_foundation_sdk.builders import dashboard as board
from grafana_foundation_sdk.builders import prometheus, stat, timeseries
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models import dashboard as model

from ..inputs.settings import CONFIG_KEYS, DEFAULTS, Settings
from . import monitoring
from .monitoring import DAY, Expiries, Series

TAGS = ["msr-cache"]
DATASOURCE_VARIABLE = "datasource"
DATASOURCE = model.DataSourceRef(type_val="prometheus", uid=f"${{{DATASOURCE_VARIABLE}}}")
# Grafana refuses a dashboard uid longer than this (util.MaxUIDLength).
UID_LENGTH = 40
_HASH = 8

Panel = stat.Panel | timeseries.Panel
P = TypeVar("P", stat.Panel, timeseries.Panel)


def dashboard_uid(settings: Settings) -> str:
    """The dashboard's uid: readable, unique per cache (the hash of `<namespace>/<name>` tells
    `a-b`/`c` from `a`/`b-c`), at most 40 characters of [a-z0-9-], which Grafana's legacy uids
    and the Kubernetes names it moves to both accept."""
    cache = f"{settings.namespace}/{settings.name}"
    digest = hashlib.sha256(cache.encode()).hexdigest()[:_HASH]
    readable = f"{settings.namespace}-{settings.name}"[: UID_LENGTH - _HASH - 1].rstrip("-")
    return f"{readable}-{digest}"


def dashboard_file(settings: Settings) -> str:
    """The ConfigMap key the dashboard is in: the Grafana sidecar writes every key of every
    ConfigMap it loads into one folder, so each cache's must differ."""
    return f"msr-cache-{dashboard_uid(settings)}.json"


def dashboard_json(settings: Settings, claim: str | None, expiries: Expiries) -> str:
    """The dashboard's JSON model, as the SDK encodes it."""
    return JSONEncoder(sort_keys=True, indent=2).encode(_model(settings, claim, expiries))


def dashboard(settings: Settings, claim: str | None, expiries: Expiries) -> dict[str, Any]:
    """The dashboard's JSON model, as data."""
    found: dict[str, Any] = json.loads(dashboard_json(settings, claim, expiries))
    return found


def _model(settings: Settings, claim: str | None, expiries: Expiries) -> model.Dashboard:
    s = monitoring.series(settings, claim)
    built = (
        board.Dashboard(f"MSR cache {s.cache}")
        .uid(dashboard_uid(settings))
        .tags(TAGS)
        .description(f"The MSR cache {s.cache}: made by the msr-cache component.")
        .time("now-6h", "now")
        .refresh("1m")
        .with_variable(
            board.DatasourceVariable(DATASOURCE_VARIABLE).label("Data source").type("prometheus")
        )
    )
    panels = [*_health(settings, s, expiries), *_traffic(s)]
    if claim is not None:
        panels.append(_volume(settings, s))
    for panel in panels:
        built.with_panel(panel.datasource(DATASOURCE))
    result = built.build()
    for number, panel in enumerate(result.panels or [], 1):
        panel.id_val = number
    return result


def _targets(panel: P, *queries: tuple[str, str]) -> P:
    """The panel with a target of each (query, legend), their refIds A, B... ("": no legend)."""
    for ref, (expr, legend) in zip(string.ascii_uppercase, queries, strict=False):
        query = prometheus.Dataquery().expr(expr).ref_id(ref)
        panel.with_target(query.legend_format(legend) if legend else query)
    return panel


def _timeseries(title: str) -> timeseries.Panel:
    return timeseries.Panel().title(title).fill_opacity(10)


def _health(settings: Settings, s: Series, expiries: Expiries) -> list[Panel]:
    """Replicas up, then the seconds left of the serving certificate and its CA, where known:
    from the expiry the deployment knows or, when cert-manager issues, from its metric."""
    up = _targets(stat.Panel().title("Replicas up"), (monitoring.replicas_up(s), ""))
    panels: list[Panel] = [up.span(6).height(5).decimals(0)]
    for what, left in monitoring.expiring(settings, expiries):
        panels.append(_expiry(settings, f"{what[0].upper()}{what[1:]} expires in", left))
    return panels


def _expiry(settings: Settings, title: str, expr: str) -> stat.Panel:
    """Seconds left, red within the days the certificate alert warns."""
    days = _input(settings, "alert_certificate_days")
    red_until = (
        board.ThresholdsConfig()
        .mode(model.ThresholdsMode.ABSOLUTE)
        .steps([model.Threshold(None, "red"), model.Threshold(days * DAY, "green")])
    )
    panel = _targets(stat.Panel().title(title), (expr, "")).unit("s")
    return panel.thresholds(red_until).span(9).height(5)


def _traffic(s: Series) -> list[Panel]:
    """Requests, pull errors, the hit ratio, and bytes from MSR against bytes served."""
    requests = _targets(
        _timeseries("Requests by handler and code").unit("reqps"),
        (monitoring.requests_rate(s), "{{handler}} {{code}}"),
    )
    errors = _targets(
        _timeseries("Pull error ratio (blob and manifest requests answered 5xx)"),
        (monitoring.pull_error_ratio(s), "errors"),
    ).unit("percentunit")
    hits = _targets(
        _timeseries("Hit ratio (proxied requests served from the cache)"),
        (monitoring.hit_ratio(s), "hits"),
    ).unit("percentunit")
    transfer = _targets(
        _timeseries("Bytes from MSR against bytes served").unit("Bps"),
        (monitoring.bytes_from_upstream(s), "from MSR"),
        (monitoring.bytes_served(s), "served"),
    )
    errors.min(0).max(1)
    hits.min(0).max(1)
    return [p.span(12).height(8) for p in (requests, errors, hits, transfer)]


def _volume(settings: Settings, s: Series) -> timeseries.Panel:
    """The share of the volume used, and the bytes it will have left in the days the volume
    alert looks ahead (on the right axis; below zero, it is full by then)."""
    days = _input(settings, "alert_volume_full_days")
    forecast = f"forecast: available in {days} days"
    right_in_bytes = [
        model.DynamicConfigValue("unit", "bytes"),
        model.DynamicConfigValue("custom.axisPlacement", "right"),
    ]
    panel = _timeseries("Volume used, and its forecast").unit("percentunit")
    panel = _targets(
        panel.override_by_name(forecast, right_in_bytes),
        (monitoring.volume_used_ratio(s), "used"),
        (monitoring.volume_available_in(s, days), forecast),
    )
    return panel.span(24).height(8)


def _input(settings: Settings, field: str) -> int:
    """An alert threshold the dashboard draws: its value, or its default where alerts are off."""
    value = getattr(settings, field)
    if value is None:
        value = DEFAULTS[CONFIG_KEYS[field]]
    assert isinstance(value, int)
    return value
