"""A fleet of MSR content caches: one central cache in front of MSR, regional caches behind it.

The central cache is exposed through ingress-nginx (TLS passthrough) in its own cluster; each
regional cache runs in its region's cluster on node ports, pulls from the central cache and
trusts its CA. Every cache has its own Kubernetes provider and namespace.
"""

from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components import MsrCache, MsrCacheArgs
from components.inputs.checks import check_dns_label
from components.inputs.problems import ConfigError, Invalid, Problem

REGION_KEYS = {"name": str, "context": str, "hosts": list, "port": int}
PROJECT = "msr-cache-fleet"


def regions(raw: Any) -> list[dict[str, Any]]:
    """The `regions` config, checked: a list of {name, context, hosts, port}."""
    accepted = "a list of {name, context, hosts, port}, e.g. [{name: asia, context: asia, hosts: [node1.asia.example.com], port: 30443}]"
    if not isinstance(raw, list) or not raw:
        raise ConfigError([Problem("regions", raw, accepted, PROJECT)])
    problems = []
    for i, region in enumerate(raw):
        if not isinstance(region, dict) or set(region) != set(REGION_KEYS):
            problems.append(Problem(f"regions[{i}]", region, accepted, PROJECT))
            continue
        for key, kind in REGION_KEYS.items():
            if not isinstance(region[key], kind) or isinstance(region[key], bool):
                problems.append(
                    Problem(f"regions[{i}].{key}", region[key], f"a {kind.__name__}", PROJECT)
                )
        try:
            check_dns_label(region["name"])  # it names the namespace and the MSR registration
        except Invalid as invalid:
            problems.append(
                Problem(f"regions[{i}].name", region["name"], invalid.accepted, PROJECT)
            )
    names = [r.get("name") for r in raw if isinstance(r, dict)]
    if len(set(names)) != len(names) or "central" in names:
        problems.append(Problem("regions", names, "distinct names, none of them central", PROJECT))
    if problems:
        raise ConfigError(problems)
    return raw


def cache(name: str, context: str, args: MsrCacheArgs) -> MsrCache:
    """A cache in the namespace msr-cache-<name> of the cluster behind `context`."""
    cluster = k8s.Provider(f"{name}-k8s", context=context)
    return MsrCache(
        name,
        {**args, "namespace": f"msr-cache-{name}"},
        opts=pulumi.ResourceOptions(providers=[cluster]),
    )


def main() -> None:
    config = pulumi.Config()
    fleet = regions(config.require_object("regions"))
    msr_ca = config.get("msrCaCert")
    central = cache(
        "central",
        config.require("centralContext"),
        {
            "upstreams": [config.require("msrUrl")],
            "exposure": "ingress",
            "hosts": [config.require("centralHost")],
            **({"upstream_ca_cert": msr_ca} if msr_ca else {}),
        },
    )
    pulumi.export("centralUrl", central.url)
    pulumi.export("centralRegistration", central.registration)
    pulumi.export("centralCaCertPem", central.ca_cert_pem)
    for region in fleet:
        regional = cache(
            region["name"],
            region["context"],
            {
                # Chained: layers come from the central cache, whose CA the region trusts.
                "upstreams": [central.url],
                "upstream_ca_cert": central.ca_cert_pem,
                "exposure": "nodePort",
                "hosts": region["hosts"],
                "port": region["port"],
            },
        )
        pulumi.export(f"{region['name']}Url", regional.url)
        pulumi.export(f"{region['name']}Registration", regional.registration)
        pulumi.export(f"{region['name']}CaCertPem", regional.ca_cert_pem)


main()
