"""What tells a cache is failing: the PromQL of its series, and the PrometheusRule alerting on them.

The series are the ones the cache's ServiceMonitor scrapes (job `<name>-metrics`, the metrics
Service's name, in the cache's namespace): distribution's registry_http_* (every version) and
registry_proxy_* (distribution v3's pull-through counters); the kubelet's volume stats of the
cache's claim; and, when cert-manager issues, its certificate expiry. The dashboard draws the
same queries (`dashboard`). A certificate the component makes or is given has an expiry known
at deployment (cert_expires_at, ca_expires_at): its alert holds that time, and `pulumi up` moves
it with the certificate.
"""

from __future__ import annotations

import dataclasses
import datetime
from typing import Any, TypeVar

from ..inputs.settings import RUNBOOKS, Settings

DAY = 86400
RULE_API_VERSION = "monitoring.coreos.com/v1"
SEVERITIES = ("critical", "warning", "info")
# The window of the rates: four scrapes of the ServiceMonitor's 30s at least.
RATE = "5m"
HIT_RATIO_WINDOW = "1h"
VOLUME_TREND = "6h"


@dataclasses.dataclass(frozen=True)
class Series:
    """Where one cache's series are: its scrape job's labels, and its claim's."""

    namespace: str
    name: str
    """The cache's name."""
    claim: str | None
    """The PersistentVolumeClaim's name (None: the cache has no volume of its own)."""

    @property
    def job(self) -> str:
        """The scrape job: the metrics Service's name, which the ServiceMonitor's targets take."""
        return f"{self.name}-metrics"

    @property
    def cache(self) -> str:
        """The cache, as alerts name it."""
        return f"{self.namespace}/{self.name}"

    def selector(self, **matchers: str) -> str:
        """The cache's scrape job, with more matchers (`x="v"`, or `x=~"re"` given as `~re`)."""
        pairs = {"job": self.job, "namespace": self.namespace, **matchers}
        return "{" + ",".join(_matcher(k, v) for k, v in pairs.items()) + "}"

    def volume(self) -> str:
        """The kubelet's labels of the claim's volume stats."""
        assert self.claim is not None
        return "{" + f'namespace="{self.namespace}",persistentvolumeclaim="{self.claim}"' + "}"


def _matcher(name: str, value: str) -> str:
    return f'{name}=~"{value[1:]}"' if value.startswith("~") else f'{name}="{value}"'


def series(settings: Settings, claim: str | None) -> Series:
    """The series of the cache `settings` makes, whose claim is named `claim`."""
    return Series(settings.namespace, settings.name, claim)


# -- the queries, shared by the alerts and the dashboard ---------------------------------------

BY = "sum by (namespace, job)"
PULLS = "~blob|manifest"


def replicas_up(s: Series) -> str:
    """How many of the cache's pods answer the scrape."""
    return f"{BY} (up{s.selector()})"


def requests_rate(s: Series) -> str:
    """Requests per second, by handler and status code."""
    return f"sum by (handler, code) (rate(registry_http_requests_total{s.selector()}[{RATE}]))"


def pull_error_ratio(s: Series) -> str:
    """The share of blob and manifest requests answered 5xx: for a pull-through cache, mostly
    its upstream failing (a blob it lacks, with MSR down, answers 500)."""
    failed = f"rate(registry_http_requests_total{s.selector(handler=PULLS, code='~5..')}[{RATE}])"
    every = f"rate(registry_http_requests_total{s.selector(handler=PULLS)}[{RATE}])"
    return f"{BY} ({failed}) / {BY} ({every})"


def hit_ratio(s: Series, window: str = HIT_RATIO_WINDOW) -> str:
    """The share of proxied requests served from the cache's storage (distribution v3)."""
    hits = f"rate(registry_proxy_hits_total{s.selector()}[{window}])"
    every = f"rate(registry_proxy_requests_total{s.selector()}[{window}])"
    return f"{BY} ({hits}) / {BY} ({every})"


def bytes_from_upstream(s: Series) -> str:
    """Bytes per second pulled from MSR (distribution v3)."""
    return f"{BY} (rate(registry_proxy_pulled_bytes_total{s.selector()}[{RATE}]))"


def bytes_served(s: Series) -> str:
    """Bytes per second of blobs served to clients."""
    served = f"registry_http_response_size_bytes_sum{s.selector(handler='blob')}"
    return f"{BY} (rate({served}[{RATE}]))"


# A claim mounted on several nodes (ReadWriteMany) is reported by each node's kubelet: one
# figure per claim, the most pessimistic.
BY_CLAIM = "by (namespace, persistentvolumeclaim)"


def volume_used_ratio(s: Series) -> str:
    """The share of the claim's volume in use."""
    v = s.volume()
    used = f"1 - kubelet_volume_stats_available_bytes{v} / kubelet_volume_stats_capacity_bytes{v}"
    return f"max {BY_CLAIM} ({used})"


def volume_available_in(s: Series, days: int) -> str:
    """The bytes the volume will have left in `days` days, at the rate of the last hours."""
    available = f"kubelet_volume_stats_available_bytes{s.volume()}[{VOLUME_TREND}]"
    return f"min {BY_CLAIM} (predict_linear({available}, {days * DAY}))"


def seconds_left(expires_at: str) -> str:
    """Seconds until `expires_at` (RFC 3339), as a vector: a known expiry."""
    return f"vector({_unix(expires_at)} - time())"


def cert_manager_seconds_left(namespace: str, certificate: str) -> str:
    """Seconds until the certificate cert-manager issued expires, from cert-manager's metric. Its
    `namespace` label is the Certificate's where the scrape honours the exporter's labels, and
    `exported_namespace` where it does not (cert-manager's chart: servicemonitor.honorLabels
    false, the default; the target's own namespace label then wins)."""
    metric = "certmanager_certificate_expiration_timestamp_seconds"
    exported = f'{metric}{{exported_namespace="{namespace}",name="{certificate}"}}'
    # Not another namespace's Certificate of the same name, exported where cert-manager runs
    # in the cache's namespace.
    own = f'{metric}{{namespace="{namespace}",exported_namespace="",name="{certificate}"}}'
    return f"({exported} or {own}) - time()"


def _unix(rfc3339: str) -> int:
    return int(datetime.datetime.fromisoformat(rfc3339).timestamp())


# -- the alerts --------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Expiries:
    """What the deployment knows of the certificates' expiry (RFC 3339; "": not known)."""

    cert: str
    ca: str


def rule_spec(settings: Settings, claim: str | None, expiries: Expiries) -> dict[str, Any]:
    """The PrometheusRule's spec: one group of the cache's alerts."""
    s, cfg = series(settings, claim), settings
    rules = [_down(s), *_replicas(s, cfg.replicas)]
    if claim is not None:
        rules += _volume(s, _set(cfg.alert_volume_used_percent), _set(cfg.alert_volume_full_days))
    rules.append(_pulls_failing(s, _set(cfg.alert_pull_error_percent)))
    rules += _certificates(cfg, expiries, _set(cfg.alert_certificate_days))
    rules.append(_hit_ratio_low(s, _set(cfg.alert_hit_ratio_percent)))
    base, extra = cfg.alert_runbook_url or RUNBOOKS, dict(cfg.alert_labels or {})
    for rule in rules:
        rule["labels"] = {**extra, **rule["labels"]}
        rule["annotations"]["runbook_url"] = f"{base}#{rule['alert'].lower()}"
    return {"groups": [{"name": f"msr-cache.{cfg.namespace}.{cfg.name}", "rules": rules}]}


T = TypeVar("T")


def _set(value: T | None) -> T:
    """An input whose default applies wherever the alerts are made."""
    assert value is not None
    return value


def _alert(
    name: str,
    expr: str,
    wait: str,
    severity: str,
    summary: str,
    description: str,
    **labels: str,
) -> dict[str, Any]:
    return {
        "alert": name,
        "expr": expr,
        "for": wait,
        "labels": {"severity": severity, **labels},
        "annotations": {"summary": summary, "description": description},
    }


def _down(s: Series) -> dict[str, Any]:
    return _alert(
        "MsrCacheDown",
        f"{replicas_up(s)} == 0 or absent(up{s.selector()})",
        "5m",
        "critical",
        "The MSR cache answers no scrape",
        f"No pod of the cache {s.cache} has answered Prometheus for 5 minutes: clients pulling "
        "through it fail, or fall back to MSR if configured to.",
    )


def _replicas(s: Series, replicas: int) -> list[dict[str, Any]]:
    if replicas < 2:  # one pod: down is the only way to miss it
        return []
    up = replicas_up(s)
    return [
        _alert(
            "MsrCacheReplicasMissing",
            f"{up} < {replicas} and {up} > 0",
            "15m",
            "warning",
            "Fewer of the MSR cache's pods answer than it asks for",
            f"{{{{ $value }}}} of the {replicas} pods of the cache {s.cache} answer the scrape.",
        )
    ]


def _volume(s: Series, used_percent: int, full_days: int) -> list[dict[str, Any]]:
    claim = f"{s.namespace}/{s.claim}"
    return [
        _alert(
            "MsrCacheVolumeAlmostFull",
            f"100 * ({volume_used_ratio(s)}) > {used_percent}",
            "5m",
            "critical",
            "The MSR cache's volume is almost full",
            f"The claim {claim} is {{{{ $value | humanize }}}}% used (over {used_percent}%): once "
            "full, the cache cannot store what it pulls, and pulls through it fail.",
        ),
        _alert(
            "MsrCacheVolumeFullInDays",
            f"{volume_available_in(s, full_days)} < 0",
            "1h",
            "warning",
            f"The MSR cache's volume will be full within {full_days} days",
            f"At the rate of the last {VOLUME_TREND}, the claim {claim} fills up within "
            f"{full_days} days.",
        ),
    ]


def _pulls_failing(s: Series, percent: int) -> dict[str, Any]:
    return _alert(
        "MsrCachePullsFailing",
        f"100 * ({pull_error_ratio(s)}) > {percent}",
        "10m",
        "warning",
        "Pulls through the MSR cache fail",
        f"{{{{ $value | humanize }}}}% of blob and manifest requests to the cache "
        f"{s.cache} are answered with a server error (over {percent}%): mostly "
        "MSR not answering the cache, or refusing it.",
    )


CERTIFICATE, CA = "serving certificate", "CA"


def expiring(settings: Settings, expiries: Expiries) -> list[tuple[str, str]]:
    """(CERTIFICATE or CA, the seconds until it expires) of each certificate whose expiry is
    known: from the deployment, or, when cert-manager issues, from its metric."""
    found: list[tuple[str, str]] = []
    if settings.cert_manager_issuer is not None:
        found.append((CERTIFICATE, cert_manager_seconds_left(settings.namespace, settings.name)))
    elif expiries.cert:
        found.append((CERTIFICATE, seconds_left(expiries.cert)))
    if expiries.ca:
        found.append((CA, seconds_left(expiries.ca)))
    return found


_EXPIRY_ALERTS = {CERTIFICATE: "MsrCacheCertificateExpiring", CA: "MsrCacheCaExpiring"}


def _certificates(cfg: Settings, expiries: Expiries, days: int) -> list[dict[str, Any]]:
    within = days * DAY
    where = f"{cfg.namespace}/{cfg.name}"
    # These come from no series of the cache: the namespace is the rule's own label.
    return [
        _alert(
            _EXPIRY_ALERTS[what],
            f"{left} < {within}",
            "1h",
            "warning",
            f"The MSR cache's {what} expires within {days} days",
            f"The {what} of the cache {where} expires in {{{{ $value | humanizeDuration }}}}: "
            "clients will refuse the cache.",
            namespace=cfg.namespace,
        )
        for what, left in expiring(cfg, expiries)
    ]


def _hit_ratio_low(s: Series, percent: int) -> dict[str, Any]:
    return _alert(
        "MsrCacheHitRatioLow",
        f"100 * ({hit_ratio(s)}) < {percent}",
        "1h",
        "info",
        "The MSR cache serves little from its storage",
        f"Over the last {HIT_RATIO_WINDOW}, {{{{ $value | humanize }}}}% of the requests to the "
        f"cache {s.cache} were served from its storage (under {percent}%): most go "
        "to MSR.",
    )
