"""`make bench`: what MsrCache costs per cache under the mock monitor, next to the SDK's own cost.

For 1, 10 and 100 caches (or --sizes) it runs a fresh Pulumi program under cheap mocks, once
with MsrCache and once with `BareCache`: a plain ComponentResource that registers the same
resource types, as many of each and wired the same way (namespace name into every object's
metadata, keys into certificates, certificates and password into the Secret, ConfigMap and
Secret names into the Deployment), from literal dicts, without validation or plans. The
difference is the component's own work. Each program runs several times and the median counts.

Before timing, `check_same_resources` runs both programs once and stops the bench, naming the
missing and extra types, if they register different resources: a ratio against a twin that
does less would be wrong.

Run from the repo root:
  .venv/bin/python bench/bench.py [--sizes 1,10,100] [--runs R] [--profile N] [--no-gc]
The last line is `ratio <component/bare> at <largest size> caches`.
"""

from __future__ import annotations

import argparse
import collections
import cProfile
import gc
import pstats
import statistics
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random
import pulumi_tls as tls

from components import MsrCache
from components.msr_cache import TYPE as COMPONENT_TYPE

BARE_TYPE = "msr-cache-bench:index:BareCache"
SIZES = (1, 10, 100)
MSR = "https://msr.example.com"
PORT = 30443

# What a provider would add to the inputs: constant strings, no crypto.
_FAKE_OUTPUTS: dict[str, dict[str, str]] = {
    "tls:index/privateKey:PrivateKey": {
        "privateKeyPem": "-----BEGIN PRIVATE KEY-----\nbench\n-----END PRIVATE KEY-----\n",
        "publicKeyPem": "-----BEGIN PUBLIC KEY-----\nbench\n-----END PUBLIC KEY-----\n",
    },
    "tls:index/selfSignedCert:SelfSignedCert": {
        "certPem": "-----BEGIN CERTIFICATE-----\nca\n-----END CERTIFICATE-----\n"
    },
    "tls:index/certRequest:CertRequest": {
        "certRequestPem": "-----BEGIN CERTIFICATE REQUEST-----\nbench\n-----END CERTIFICATE REQUEST-----\n"
    },
    "tls:index/locallySignedCert:LocallySignedCert": {
        "certPem": "-----BEGIN CERTIFICATE-----\nleaf\n-----END CERTIFICATE-----\n"
    },
    "random:index/randomPassword:RandomPassword": {"result": "x" * 32},
}


class BenchMocks(pulumi.runtime.Mocks):
    """Inputs back as outputs, Kubernetes objects auto-named, constant PEMs: as cheap as can be."""

    def __init__(self) -> None:
        self.types: collections.Counter[str] = collections.Counter()

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict]:
        self.types[args.typ] += 1
        outputs = dict(args.inputs)
        if args.typ.startswith("kubernetes:"):
            metadata = dict(outputs.get("metadata") or {})
            if not metadata.get("name"):
                metadata["name"] = f"{args.name}-0123abcd"
            outputs["metadata"] = metadata
        else:
            outputs.update(_FAKE_OUTPUTS.get(args.typ, {}))
        return f"{args.name}-id", outputs

    def call(self, args: pulumi.runtime.MockCallArgs) -> dict:
        return {}


def _labels(name: str) -> dict[str, str]:
    return {
        "app.kubernetes.io/name": "msr-cache",
        "app.kubernetes.io/instance": name,
        "app.kubernetes.io/component": "content-cache",
        "app.kubernetes.io/part-of": "mirantis-secure-registry",
        "app.kubernetes.io/managed-by": "pulumi",
        "app.kubernetes.io/version": "2.9.16",
    }


# The component's registry config for the bench's args; {host} is the cache's node.
_CONFIG_YAML = """\
version: 0.1
log:
  level: info
storage:
  delete:
    enabled: true
  filesystem:
    rootdirectory: /var/lib/registry
http:
  addr: :8443
  host: https://{host}:30443
  tls:
    certificate: /certs/cache.cert.pem
    key: /certs/cache.key.pem
middleware:
  registry:
  - name: downstream
    options:
      blobttl: 24h
      upstreams:
      - https://msr.example.com
"""


def _probe(period: int, failures: int) -> dict[str, Any]:
    return {
        "httpGet": {"path": "/v2/", "port": "https", "scheme": "HTTPS"},
        "periodSeconds": period,
        "timeoutSeconds": 5,
        "failureThreshold": failures,
    }


class BareCache(pulumi.ComponentResource):
    """The resources of a default nodePort MsrCache, registered from literals: the SDK's cost."""

    def __init__(
        self, name: str, namespace: str, host: str, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(BARE_TYPE, name, {}, opts)
        child = pulumi.ResourceOptions(parent=self)
        labels = _labels("dtr-cache")
        selector = {k: labels[k] for k in ("app.kubernetes.io/name", "app.kubernetes.io/instance")}
        ns = k8s.core.v1.Namespace(
            f"{name}-namespace", metadata={"name": namespace, "labels": labels}, opts=child
        )
        meta = {"namespace": ns.metadata.name, "labels": labels}
        service = k8s.core.v1.Service(
            f"{name}-service",
            metadata={**meta, "name": "dtr-cache"},
            spec={
                "type": "NodePort",
                "selector": selector,
                "ports": [
                    {
                        "name": "https",
                        "protocol": "TCP",
                        "targetPort": "https",
                        "port": 443,
                        "nodePort": PORT,
                    }
                ],
            },
            opts=child,
        )
        key_args: dict[str, Any] = {"algorithm": "RSA", "rsa_bits": 4096}
        ca_key = tls.PrivateKey(f"{name}-ca-key", **key_args, opts=child)
        ca = tls.SelfSignedCert(
            f"{name}-ca",
            private_key_pem=ca_key.private_key_pem,
            is_ca_certificate=True,
            subject={"common_name": f"dtr-cache.{namespace} cache CA", "organization": "msr-cache"},
            validity_period_hours=87600,
            early_renewal_hours=8760,
            allowed_uses=["cert_signing", "crl_signing", "digital_signature"],
            opts=child,
        )
        key = tls.PrivateKey(f"{name}-key", **key_args, opts=child)
        request = tls.CertRequest(
            f"{name}-csr",
            private_key_pem=key.private_key_pem,
            subject={"common_name": host, "organization": "msr-cache"},
            dns_names=[
                host,
                f"dtr-cache.{namespace}.svc",
                f"dtr-cache.{namespace}.svc.cluster.local",
            ],
            ip_addresses=[],
            opts=child,
        )
        cert = tls.LocallySignedCert(
            f"{name}-cert",
            cert_request_pem=request.cert_request_pem,
            ca_private_key_pem=ca_key.private_key_pem,
            ca_cert_pem=ca.cert_pem,
            validity_period_hours=8760,
            early_renewal_hours=720,
            allowed_uses=["digital_signature", "key_encipherment", "server_auth"],
            opts=child,
        )
        password = random.RandomPassword(
            f"{name}-http-secret", length=32, special=False, opts=child
        )
        config_map = k8s.core.v1.ConfigMap(
            f"{name}-config",
            metadata=meta,
            data={"config.yaml": _CONFIG_YAML.format(host=host)},
            opts=child,
        )
        secret = k8s.core.v1.Secret(
            f"{name}-certs",
            metadata=meta,
            type="Opaque",
            string_data=pulumi.Output.secret(
                {
                    "cache.cert.pem": cert.cert_pem,
                    "cache.key.pem": key.private_key_pem,
                    "http-secret": password.result,
                }
            ),
            opts=child,
        )
        container = {
            "name": "dtr-cache",
            "image": "mirantis/dtr-content-cache:2.9.16",
            "imagePullPolicy": "IfNotPresent",
            "command": ["bin/sh"],
            "args": ["start.sh", "/config/config.yaml"],
            "ports": [{"name": "https", "containerPort": 8443, "protocol": "TCP"}],
            "env": [
                {
                    "name": "REGISTRY_HTTP_SECRET",
                    "valueFrom": {
                        "secretKeyRef": {"name": secret.metadata.name, "key": "http-secret"}
                    },
                }
            ],
            "volumeMounts": [
                {"name": "dtr-certs", "mountPath": "/certs", "readOnly": True},
                {"name": "dtr-cache-config", "mountPath": "/config", "readOnly": True},
                {"name": "cache-data", "mountPath": "/var/lib/registry"},
            ],
            "readinessProbe": _probe(5, 3),
            "livenessProbe": {**_probe(10, 6), "initialDelaySeconds": 10},
            "resources": {
                "requests": {"cpu": "100m", "memory": "256Mi"},
                "limits": {"cpu": "1", "memory": "1Gi"},
            },
            "securityContext": {
                "allowPrivilegeEscalation": False,
                "capabilities": {"drop": ["ALL"]},
                "seccompProfile": {"type": "RuntimeDefault"},
            },
        }
        k8s.apps.v1.Deployment(
            f"{name}-deployment",
            metadata={**meta, "name": "dtr-cache"},
            spec={
                "replicas": 1,
                "selector": {"matchLabels": selector},
                "strategy": {
                    "type": "RollingUpdate",
                    "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1},
                },
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {
                        "automountServiceAccountToken": False,
                        "securityContext": {"seccompProfile": {"type": "RuntimeDefault"}},
                        "containers": [container],
                        "volumes": [
                            {
                                "name": "dtr-certs",
                                "secret": {
                                    "secretName": secret.metadata.name,
                                    "defaultMode": 0o444,
                                },
                            },
                            {
                                "name": "dtr-cache-config",
                                "configMap": {
                                    "name": config_map.metadata.name,
                                    "defaultMode": 0o444,
                                },
                            },
                            {"name": "cache-data", "emptyDir": {}},
                        ],
                    },
                },
            },
            opts=child,
        )
        k8s.networking.v1.NetworkPolicy(
            f"{name}-network-policy",
            metadata={**meta, "name": "dtr-cache"},
            spec={
                "podSelector": {"matchLabels": selector},
                "policyTypes": ["Ingress", "Egress"],
                "ingress": [{"ports": [{"port": 8443, "protocol": "TCP"}]}],
                "egress": [
                    {"ports": [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}]},
                    {"ports": [{"port": 443, "protocol": "TCP"}]},
                ],
            },
            opts=child,
        )
        self.url = pulumi.Output.from_input(f"https://{host}:{PORT}")
        self.ca_cert_pem = ca.cert_pem
        self.namespace = ns.metadata.name
        self.service_name = service.metadata.name
        self.registration = self.url.apply(lambda u: f'{{"name": "{name}", "host": "{u}"}}')
        self.register_outputs(
            {
                "url": self.url,
                "ca_cert_pem": self.ca_cert_pem,
                "namespace": self.namespace,
                "service_name": self.service_name,
                "registration": self.registration,
            }
        )


def component(i: int) -> Any:
    return MsrCache(
        f"cache-{i}",
        {
            "upstreams": [MSR],
            "hosts": [f"node{i}.example.com"],
            "port": PORT,
            "namespace": f"ns-{i}",
        },
    )


def bare(i: int) -> Any:
    return BareCache(f"cache-{i}", f"ns-{i}", f"node{i}.example.com")


def run(make: Callable[[int], Any], n: int, collect: bool = True) -> tuple[float, BenchMocks]:
    """Seconds to run a fresh program of `n` caches to completion, and the mocks it used.

    With `collect` false, Python's cyclic garbage collector is off while the program runs.
    """
    gc.collect()
    if not collect:
        gc.disable()
    mocks = BenchMocks()
    start = time.perf_counter()
    pulumi.runtime.set_mocks(mocks, project="msr-cache", stack="bench", preview=False)

    def program() -> Any:
        caches = [make(i) for i in range(n)]
        return pulumi.Output.all(*(c.registration for c in caches))

    try:
        pulumi.runtime.test(program)()
    finally:
        gc.enable()
    return time.perf_counter() - start, mocks


_SELF = f"{COMPONENT_TYPE} / {BARE_TYPE}"


def resource_differences(
    component_types: Mapping[str, int], bare_types: Mapping[str, int]
) -> list[str]:
    """How the bare program's registrations differ from the component's: one line per type
    missing from the bare side, extra on it, or registered a different number of times.

    The two component types themselves count as one type: as many MsrCaches as BareCaches.
    """
    a = collections.Counter(component_types)
    b = collections.Counter(bare_types)
    a[_SELF] = a.pop(COMPONENT_TYPE, 0)
    b[_SELF] = b.pop(BARE_TYPE, 0)
    lines = []
    for t in sorted(set(a) | set(b)):
        if a[t] == b[t]:
            continue
        if not b[t]:
            lines.append(f"missing from BareCache: {t} (MsrCache registers {a[t]})")
        elif not a[t]:
            lines.append(f"extra in BareCache: {t} ({b[t]}, MsrCache registers none)")
        else:
            lines.append(f"count differs: {t} (MsrCache {a[t]}, BareCache {b[t]})")
    return lines


def check_same_resources(n: int = 2) -> None:
    """Run both programs with `n` caches; exit naming the differences if they register other
    resources (types and counts, the component types aside)."""
    _, a = run(component, n)
    _, b = run(bare, n)
    differences = resource_differences(a.types, b.types)
    if differences:
        sys.exit(
            "bench/bench.py: BareCache no longer registers what MsrCache does for the bench's"
            " args; update BareCache to match components/msr_cache.py:\n  "
            + "\n  ".join(differences)
        )
    kinds = sorted(t for t in a.types if t != COMPONENT_TYPE)
    print(f"{sum(a.types.values()) // n} resources per cache: " + ", ".join(kinds))


def profile(n: int) -> None:
    for make in (component, bare):
        profiler = cProfile.Profile()
        profiler.enable()
        run(make, n)
        profiler.disable()
        print(f"\n--- profile: {make.__name__}, {n} caches (cumulative) ---")
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)


def sizes(text: str) -> tuple[int, ...]:
    """`--sizes 1,10,100`: distinct positive cache counts, in increasing order."""
    try:
        values = sorted({int(part) for part in text.split(",") if part.strip()})
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not a comma-separated list of integers: {text!r}"
        ) from None
    if not values or values[0] < 1:
        raise argparse.ArgumentTypeError(f"need one or more positive integers: {text!r}")
    return tuple(values)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes",
        type=sizes,
        default=SIZES,
        metavar="N,N,...",
        help=f"numbers of caches to time (default {','.join(map(str, SIZES))})",
    )
    parser.add_argument("--runs", type=int, default=5, help="runs per size and side (median)")
    parser.add_argument("--profile", type=int, metavar="N", help="also cProfile N caches")
    parser.add_argument(
        "--no-gc", action="store_true", help="turn the cyclic garbage collector off during runs"
    )
    options = parser.parse_args(argv)
    if options.runs < 1:
        parser.error("--runs must be at least 1")

    check_same_resources()
    run(component, 1)  # warm up: first-use imports and caches
    run(bare, 1)
    print(f"{'caches':>6}  {'MsrCache ms/cache':>17}  {'bare ms/cache':>13}  {'ratio':>5}")
    ratios: dict[int, float] = {}
    per_cache: dict[tuple[str, int], float] = {}
    for n in options.sizes:
        times: dict[str, list[float]] = {"component": [], "bare": []}
        for _ in range(options.runs):  # alternate, so drift hits both sides alike
            times["component"].append(run(component, n, not options.no_gc)[0])
            times["bare"].append(run(bare, n, not options.no_gc)[0])
        ms = {side: 1000 * statistics.median(t) / n for side, t in times.items()}
        per_cache.update({(side, n): v for side, v in ms.items()})
        ratios[n] = ms["component"] / ms["bare"]
        print(f"{n:>6}  {ms['component']:>17.2f}  {ms['bare']:>13.2f}  {ratios[n]:>5.2f}")
    large = options.sizes[-1]
    if len(options.sizes) > 1:  # from the next-largest size: 10 to 100 by default
        small = options.sizes[-2]
        growth = {
            side: per_cache[(side, large)] / per_cache[(side, small)]
            for side in ("component", "bare")
        }
        print(
            f"growth of ms/cache from {small} to {large} caches: "
            f"MsrCache x{growth['component']:.2f}, bare x{growth['bare']:.2f}"
        )
    if options.profile:
        profile(options.profile)
    print(f"ratio {ratios[large]:.2f} at {large} caches")


if __name__ == "__main__":
    main()
