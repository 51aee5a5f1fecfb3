"""The cache's config.yaml: distribution's registry configuration plus MSR's `downstream` middleware.

Built as data and dumped with PyYAML. It never holds a secret: the http secret reaches the
container as REGISTRY_HTTP_SECRET, which distribution reads in place of `http.secret`.

The URLs in it (the upstreams, an object storage endpoint) are written as they were checked, as
the cache, a Go program, reads them (`components.inputs.go_url`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import yaml

if TYPE_CHECKING:  # settings reads the exposure modes, which read this module's ports
    from ..inputs.settings import Settings

CERTS_DIR = "/certs"
CONFIG_DIR = "/config"
CONFIG_FILE = "config.yaml"
DATA_DIR = "/var/lib/registry"
CERT_FILE = "cache.cert.pem"
KEY_FILE = "cache.key.pem"
UPSTREAM_CA_FILE = "msr.cert.pem"
HTTP_SECRET_KEY = "http-secret"
# The cache listens on an unprivileged port so the container needs no capability at all; the
# Service (or the hostPort) maps the port clients use onto it.
CONTAINER_PORT = 8443
# distribution's debug server: plain HTTP, /metrics and /debug/health (reachable only in-cluster,
# and with the network policy only from the metrics namespace).
METRICS_PORT = 5001
METRICS_PATH = "/metrics"
HEALTH_PATH = "/debug/health"


def registry_config(
    *,
    log_level: str,
    host_url: str,
    blob_ttl: str,
    upstreams: Sequence[str],
    trusts_upstream_ca: bool,
    object_storage: Mapping[str, Any] | None = None,
    metrics: bool = False,
) -> dict[str, Any]:
    """The registry configuration the cache reads, as a dict.

    `object_storage` is a driver's section ({"s3": {...}}) replacing the filesystem."""
    downstream: dict[str, Any] = {"blobttl": blob_ttl, "upstreams": list(upstreams)}
    if trusts_upstream_ca:
        downstream["cas"] = [f"{CERTS_DIR}/{UPSTREAM_CA_FILE}"]
    # blobttl expires blobs by deleting them: distribution refuses deletes unless enabled.
    storage: dict[str, Any] = {"delete": {"enabled": True}}
    if object_storage:
        # Clients pull through the cache, never straight from the bucket (which they may not reach).
        storage.update({**object_storage, "redirect": {"disable": True}})
    else:
        storage["filesystem"] = {"rootdirectory": DATA_DIR}
    http: dict[str, Any] = {
        "addr": f":{CONTAINER_PORT}",
        "host": host_url,
        "tls": {"certificate": f"{CERTS_DIR}/{CERT_FILE}", "key": f"{CERTS_DIR}/{KEY_FILE}"},
    }
    if metrics:
        http["debug"] = {
            "addr": f":{METRICS_PORT}",
            "prometheus": {"enabled": True, "path": METRICS_PATH},
        }
    return {
        "version": 0.1,
        "log": {"level": log_level},
        "storage": storage,
        "http": http,
        "middleware": {"registry": [{"name": "downstream", "options": downstream}]},
    }


def dump(config: dict[str, Any]) -> str:
    """config.yaml text, keys in the order distribution's docs use."""
    return yaml.safe_dump(config, sort_keys=False, default_flow_style=False)


def config_yaml(settings: Settings, url: str, upstreams: Sequence[str]) -> str:
    """The ConfigMap's config.yaml, once the cache's URL and its upstreams are known."""
    storage = settings.object_storage
    return dump(
        registry_config(
            log_level=settings.log_level.value,
            host_url=url,
            blob_ttl=settings.blob_ttl,
            upstreams=upstreams,
            trusts_upstream_ca=settings.trusts_upstream_ca,
            object_storage=storage.config() if storage else None,
            metrics=settings.metrics,
        )
    )
