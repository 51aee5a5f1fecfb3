"""The stack program: one MSR content cache per stack, configured in Pulumi.<stack>.yaml.

It reads the `msr-cache:*` config keys, checks them all, picks the Kubernetes provider (render to
a folder, or a kubeconfig context), makes the MsrCache and exports what users need from it.
"""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components import MsrCache
from components.settings import CONFIG_KEYS, ConfigError, Problem, parse

# Keys whose value is YAML structure (a list, a number, a boolean, an object) rather than text;
# Pulumi hands them to the program as JSON.
STRUCTURED = {
    "upstreams", "hosts", "port", "replicas", "createNamespace", "resources", "objectStorage",
    "nodeSelector", "tolerations", "affinity", "networkPolicy", "metrics", "serviceMonitor",
    "certManagerIssuer", "upstreamCaSecret", "extraEnv", "podAnnotations",
}  # fmt: skip


def cache_config(config: pulumi.Config) -> dict[str, Any]:
    """The cache's keys as set in the stack, decoded; unset keys are left out."""
    raw: dict[str, Any] = {}
    for key in CONFIG_KEYS.values():
        text = config.get(key)
        if text is None:
            continue
        try:
            raw[key] = json.loads(text) if key in STRUCTURED else text
        except json.JSONDecodeError:
            raw[key] = text  # reported by `parse` as the wrong type, naming the key
    return raw


def provider(config: pulumi.Config) -> k8s.Provider:
    """Render manifests into a folder, or deploy through a kubeconfig context."""
    render_dir = config.get("renderYamlToDirectory")
    context = config.get("kubeContext")
    if render_dir:
        return k8s.Provider("kubernetes", render_yaml_to_directory=render_dir)
    return k8s.Provider("kubernetes", context=context)


def main() -> None:
    config = pulumi.Config("msr-cache")
    raw = cache_config(config)
    parse(raw)  # every mistake is reported before the provider or anything else exists
    if config.get("renderYamlToDirectory") and config.get("kubeContext"):
        raise ConfigError(
            [
                Problem(
                    "kubeContext",
                    config.get("kubeContext"),
                    "no kubeContext with renderYamlToDirectory: a render reaches no cluster",
                )
            ]
        )
    cache = MsrCache(
        pulumi.get_stack(),
        {name: raw[key] for name, key in CONFIG_KEYS.items() if key in raw},  # type: ignore[misc]
        opts=pulumi.ResourceOptions(providers=[provider(config)]),
    )
    pulumi.export("url", cache.url)
    pulumi.export("caCertPem", cache.ca_cert_pem)
    pulumi.export("namespace", cache.namespace)
    pulumi.export("serviceName", cache.service_name)
    pulumi.export("registration", cache.registration)


main()
