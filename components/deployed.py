"""What only the deployment knows, as Outputs: the one place where they meet the spec builders.

The builders of components/objects take plain values, but some exist only once the program runs:
the namespace made, a load balancer's address, the inputs given as Outputs (secrets, another
cache's URL), what is read from the cluster. `Deployed` holds them, and its methods hand each
builder the values it needs, resolved: each spec waits for its own only (one Output of all would
hide the URL of a load balancer with hosts in a preview, as its SANs wait for the address, and
make config.yaml secret with a secret extraEnv).
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
from pulumi import Input, Output

from .inputs import settings as config
from .inputs.problems import spelled
from .inputs.settings import Settings
from .objects import certificates, dashboard, exposure, monitoring, network_policy, workload
from .objects import registry_config as rc
from .objects.certificates import SubjectAltNames
from .objects.monitoring import Expiries
from .objects.plan import Plan, proxy_ports


@dataclasses.dataclass(frozen=True)
class Deployed:
    """What only the deployment knows about one cache."""

    settings: Settings
    plan: Plan
    namespace: Output[str]
    """The namespace's name: the made Namespace's, so that every object waits for it."""
    url: Output[str]
    sans: Output[SubjectAltNames]
    upstreams: Output[Sequence[str]]
    extra_env: Output[Mapping[str, str]] | None
    """extraEnv resolved and checked, when some of its values are Outputs (secrets)."""
    upstream_ca: Output[str] | None
    """MSR's CA: upstreamCaCert checked, or read from the Secret upstreamCaSecret names."""
    storage_expands: Output[bool | None]
    """Whether the claim's StorageClass allows volume expansion (None: not read)."""

    def config_yaml(self) -> Output[str]:
        """The ConfigMap's config.yaml."""
        s = self.settings
        return Output.all(self.url, self.upstreams).apply(lambda a: rc.config_yaml(s, a[0], a[1]))

    def network_policy_spec(self) -> Output[dict[str, Any]]:
        """The NetworkPolicy's spec."""
        s, p, env = self.settings, self.plan, self.extra_env
        # A proxy's port is no secret, and a secret spec would hide the whole policy from
        # previews and the state: only the ports leave the secret extraEnv.
        proxies: Output[list[int]] = (
            Output.unsecret(env.apply(lambda e: sorted(proxy_ports(e))))
            if env is not None and p.proxies_resolve_later
            else Output.from_input([])
        )
        return Output.all(self.upstreams, proxies).apply(
            lambda a: network_policy.network_policy_spec(s, p, a[0], a[1])
        )

    def certificate_spec(self) -> Output[dict[str, Any]]:
        """cert-manager's Certificate's spec."""
        return self.sans.apply(lambda x: certificates.certificate_spec(self.settings, self.plan, x))

    def claim_annotations(self) -> Output[dict[str, str]]:
        """The claim's annotations."""
        storage = self.settings.storage
        assert storage is not None
        every = self.plan.annotations
        return self.storage_expands.apply(lambda e: workload.claim_annotations(storage, e, every))

    def storage_credentials(self) -> dict[str, Input[str]] | None:
        """The storage Secret's data: object storage's credentials, by their keys in it."""
        storage, keys = self.settings.object_storage, self.plan.storage_secret_keys
        return (
            {key: storage.credentials[k] for k, key in keys.items()} if storage and keys else None
        )

    def secret_env(self) -> dict[str, Output[str]] | None:
        """The env Secret's data: the extraEnv values given as Outputs, by their keys in it."""
        env, keys = self.extra_env, self.plan.env_secret_keys
        return {key: env.apply(lambda e, v=v: e[v]) for v, key in keys.items()} if env else None

    def rule_spec(self, claim: Output[str] | None, expiries: Output[Expiries]) -> Output[Any]:
        """The PrometheusRule's spec, once the claim is named and the certificates made."""
        s = self.settings
        return Output.all(claim, expiries).apply(lambda a: monitoring.rule_spec(s, a[0], a[1]))

    def dashboard_data(
        self, claim: Output[str] | None, expiries: Output[Expiries]
    ) -> Output[dict[str, str]]:
        """The dashboard ConfigMap's data: the dashboard's JSON model, a file of its own."""
        s = self.settings
        file = dashboard.dashboard_file(s)
        return Output.all(claim, expiries).apply(
            lambda a: {file: dashboard.dashboard_json(s, a[0], a[1])}
        )

    def cert_sans(self) -> Output[list[str]]:
        """The serving certificate's SANs, as the cert_sans output lists them."""
        tls_cert = self.settings.tls_cert
        if tls_cert is not None:
            return checked("tlsCert", tls_cert).apply(certificates.pem_san_texts)
        return self.sans.apply(certificates.san_texts)


def deployed(
    name: str,
    s: Settings,
    p: Plan,
    namespace: Output[str],
    service: k8s.core.v1.Service,
    child: pulumi.ResourceOptions,
) -> Deployed:
    """What the deployment of cache `name` knows, once its namespace and Service are made; what
    is read from the cluster is read with `child`'s options (the component's children)."""
    lb_address: Output[str | None] = (
        service.status.apply(lambda st: _assigned(exposure.load_balancer_address(st)))
        if p.reads_load_balancer
        else Output.from_input(None)
    )
    place = Output.all(namespace, lb_address)
    # With hosts, the URL is the first one's: only the SANs follow the address.
    url = (place if not s.hosts else Output.all(namespace, None)).apply(
        lambda a: exposure.url(s.mode, s.hosts, s.port, s.name, a[0], a[1])
    )
    sans = place.apply(lambda a: certificates.subject_alt_names(s.hosts, s.name, a[0], a[1]))
    upstreams = Output.from_input(s.upstreams).apply(lambda u: config.resolved("upstreams", u))
    env = (
        Output.all(**s.extra_env).apply(lambda e: config.resolved("extraEnv", e))
        if p.env_secret_keys
        else None
    )
    expands: Output[bool | None] = Output.from_input(None)
    storage_class = s.storage.storage_class if s.storage is not None else None
    if p.claim is not None and storage_class is not None and s.read_cluster:
        read = k8s.storage.v1.StorageClass.get(f"{name}-storage-class", storage_class, opts=child)
        expands = read.allow_volume_expansion
    return Deployed(
        s, p, namespace, url, sans, upstreams, env, _upstream_ca(name, s, p, child), expands
    )


def _upstream_ca(
    name: str, s: Settings, p: Plan, child: pulumi.ResourceOptions
) -> Output[str] | None:
    if p.upstream_ca == "given" and s.upstream_ca_cert is not None:
        return checked("upstreamCaCert", s.upstream_ca_cert)
    if p.upstream_ca == "secret" and s.upstream_ca_secret is not None:
        ref = s.upstream_ca_secret
        source = k8s.core.v1.Secret.get(
            f"{name}-upstream-ca", f"{ref.namespace}/{ref.name}", opts=child
        )
        return source.data.apply(lambda data: config.resolved_secret_pem(ref, data))
    return None


def _assigned(address: str | None) -> Input[str | None]:
    """A load balancer's address; unknown in a preview while none is assigned (a Service that
    becomes a LoadBalancer), since `pulumi up` waits for one: the preview then shows the URL,
    the certificate and its Secret changing, as `up` changes them."""
    if address is None and pulumi.runtime.is_dry_run():
        loop = asyncio.get_running_loop()
        value: asyncio.Future[str | None] = loop.create_future()
        known: asyncio.Future[bool] = loop.create_future()
        value.set_result(None)
        known.set_result(False)
        return Output(set(), value, known)
    return address


def checked(key: str, value: Input[str]) -> Output[str]:
    """A deferrable input, checked when it resolves (plain ones were checked by `parse`); a
    trust bundle's certificates Go clients skip are warned of then, as Settings.warnings()
    warns of a plain one's (naming each by its subject, never the PEM)."""
    resolved = Output.from_input(value).apply(lambda v: config.resolved(key, v))
    if isinstance(value, str) or key not in ("tlsCaCert", "upstreamCaCert"):
        return resolved

    def warned(pem: str) -> str:
        for warning in config.bundle_warnings(spelled(key), pem):
            pulumi.log.warn(warning)
        return pem

    return resolved.apply(warned)
