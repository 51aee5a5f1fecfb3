"""The MsrCache component: an MSR content cache on Kubernetes, from validated settings.

It reads as the flow: parse the inputs into Settings, plan the objects (components/objects,
plain data), then make them: the namespace and Service, what only the deployment knows
(`deployed`), the serving certificate (`serving_certificate`), the Secrets, ConfigMap and claim
built from it, the Deployment holding their generated names, and the plan's other objects.
"""

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NotRequired, TypedDict, TypeVar

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random

from .deployed import Deployed, deployed
from .inputs import settings as config
from .inputs.model import AccessMode, Exposure, KeyAlgorithm, LogLevel
from .inputs.schema_types import (
    CertManagerIssuer,
    ContainerResources,
    GatewayReference,
    SecretKeyRef,
)
from .objects import exposure, monitoring, workload
from .objects import registry_config as rc
from .objects.metadata import object_metadata
from .objects.monitoring import Expiries
from .objects.plan import plan
from .serving_certificate import Trust, serving_certificate

TYPE = "msr-cache:index:MsrCache"
CERT_MANAGER_VERSION = "cert-manager.io/v1"

_Resource = TypeVar("_Resource", bound=pulumi.CustomResource)


class MsrCacheArgs(TypedDict):
    """The inputs of an MsrCache. Only `upstreams` is required."""

    upstreams: pulumi.Input[Sequence[pulumi.Input[str]]]
    """URLs of the registries the cache pulls from, https://host[:port] without path, read as Go 1.26 reads a URL (a host name in any case, written in lower case): MSR, or a central cache for a chained one; pulled round-robin. May be Outputs."""
    exposure: NotRequired[pulumi.Input[Exposure]]
    """How clients reach the cache: nodePort (a NodePort Service on port), hostPort (port bound on the node), loadBalancer (a LoadBalancer Service on port), ingress (an Ingress with TLS passthrough) or gateway (a Gateway API TLSRoute on a Gateway's TLS Passthrough listener). The certificate's SANs and the URL follow it."""
    hosts: NotRequired[pulumi.Input[Sequence[pulumi.Input[str]]]]
    """The DNS names or IP addresses clients use to reach the cache; the first is in its URL and all are certificate SANs. nodePort/hostPort: node FQDNs or IPs; ingress, gateway: the external FQDNs (names only); loadBalancer: optional, the address the cloud assigns is added."""
    port: NotRequired[pulumi.Input[int]]
    """The port clients connect to: with nodePort the node port (required, within node_port_range), with hostPort the port bound on the node, with loadBalancer the load balancer's port, with gateway_class_name the port of the Gateway made (all three default 443). Not with ingress or gateway: clients dial the ingress controller's or the Gateway listener's port, which the URL takes to be 443."""
    node_port_range: NotRequired[pulumi.Input[str]]
    """With nodePort, the cluster's NodePort range as kube-apiserver's --service-node-port-range takes it: min-max or min+offset, both ends included (default 30000-32767; Mirantis Kubernetes Engine uses 32768-35535)."""
    namespace: NotRequired[pulumi.Input[str]]
    """Kubernetes namespace of the cache's objects (default dtr)."""
    create_namespace: NotRequired[pulumi.Input[bool]]
    """Whether to create the namespace (default true); false deploys into an existing one (e.g. the dtr of a manual install). Set it false for a namespace that exists: pulumi-kubernetes 4.25 (the lock's) takes one over instead of refusing it, and pulumi destroy then deletes it with all it holds."""
    name: NotRequired[pulumi.Input[str]]
    """Name of the Deployment, Service, Ingress, TLSRoute and Gateway (default dtr-cache)."""
    image: NotRequired[pulumi.Input[str]]
    """The content cache image, pinned by a tag other than latest or by a digest (default mirantis/dtr-content-cache:2.9.16); match your MSR version."""
    blob_ttl: NotRequired[pulumi.Input[str]]
    """How long a cached layer is kept before it is fetched again, as a Go duration with a unit (default 24h; 1h30m). A bare number is refused: the cache would read it as nanoseconds."""
    upstream_ca_cert: NotRequired[pulumi.Input[str]]
    """PEM of the certificates the cache trusts for its upstreams, read as Go reads them, at least one valid now (one that is not, such as a CA a rotation left, is skipped with a warning, as Go skips it): the CA that signed their certificates (MSR's CA, e.g. from kubectl get secret msr-nginx-ca-cert) or a pinned self-signed certificate, when the image's default trust lacks it. May be an Output."""
    tls_cert: NotRequired[pulumi.Input[str]]
    """PEM serving certificate (chain, leaf first) of your own, with tls_key: valid now, for TLS server authentication (serverAuth, if it lists extended key usages, on it and every CA above it), without a critical extension Go does not handle, its SANs covering every host. Unset: a private CA and a certificate with the right SANs are generated."""
    tls_key: NotRequired[pulumi.Input[str]]
    """PEM private key of tls_cert; always stored as a secret (pulumi config set --secret tlsKey < key.pem)."""
    tls_ca_cert: NotRequired[pulumi.Input[str]]
    """PEM of the CA that issued tls_cert (a chain must lead from tls_cert, through the intermediates after its leaf, to it, as clients build it) or cert-manager's certificate, published as ca_cert_pem (default: tls_cert itself); a CA in it that is not valid now is skipped with a warning, as Go skips it."""
    replicas: NotRequired[pulumi.Input[int]]
    """Number of cache pods (default 1); more than 1 needs no storage_size (each pod caches on its own), a ReadWriteMany claim, or object_storage."""
    storage_size: NotRequired[pulumi.Input[str]]
    """Size of a PersistentVolumeClaim for cached layers (e.g. 50Gi), so they survive a restart; unset keeps them in an emptyDir. Not with object_storage. Raised later, the claim grows in place where storage_class names a class that allows volume expansion; otherwise a change of size replaces the claim with a new, empty one (as the preview shows), which the cache refills from its upstreams."""
    storage_class: NotRequired[pulumi.Input[str]]
    """With storage_size, the StorageClass of the claim (default: the cluster's default class). A class named here is read from the cluster (get storageclasses), to know whether a larger storage_size can grow the claim in place."""
    storage_access_mode: NotRequired[pulumi.Input[AccessMode]]
    """With storage_size, the claim's access mode: ReadWriteOnce (default) or ReadWriteOncePod (both make the Deployment Recreate its one pod), or ReadWriteMany."""
    ingress_class_name: NotRequired[pulumi.Input[str]]
    """With exposure ingress, the IngressClass of the Ingress (default nginx). The controller must pass TLS through; ingress-nginx needs --enable-ssl-passthrough."""
    gateway: NotRequired[pulumi.Input[GatewayReference]]
    """With exposure gateway, the existing Gateway API Gateway the TLSRoute attaches to: {name, namespace, section_name (optional, its listener)}. It needs a listener of protocol TLS with tls mode Passthrough on port 443, whose hostname (if any) matches the hosts and whose allowedRoutes admit TLSRoutes from the cache's namespace. Not with gateway_class_name."""
    gateway_class_name: NotRequired[pulumi.Input[str]]
    """With exposure gateway, instead of gateway: the GatewayClass of a Gateway made in the cache's namespace, named after it, with one TLS Passthrough listener per host (a listener has at most one hostname) on port, admitting TLSRoutes of that namespace. Point the hosts' DNS at the address its implementation gives it."""
    log_level: NotRequired[pulumi.Input[LogLevel]]
    """The cache's log level: error, warn, info (default) or debug."""
    resources: NotRequired[pulumi.Input[ContainerResources]]
    """The container's resource requests and limits; a section given replaces that section of the defaults (requests cpu 100m, memory 256Mi; limits cpu 1, memory 1Gi), and each request must be at most its limit."""
    tls_key_algorithm: NotRequired[pulumi.Input[KeyAlgorithm]]
    """Algorithm of the generated keys: RSA (4096 bits, as the MSR docs; default) or ECDSA (P-256). Not with tls_cert."""
    object_storage: NotRequired[pulumi.Input[Mapping[str, Any]]]
    """The blobs in object storage instead of the pod's volume: {driver: s3|azure|gcs|swift, ...the driver's parameters}; then replicas may be more than 1. Credentials (s3 accesskey/secretkey, azure accountkey, gcs keyfile - the JSON key itself -, swift password/secretkey) go to a Secret and reach the container as REGISTRY_STORAGE_<DRIVER>_<KEY>; redirects to the bucket are off, so clients pull through the cache."""
    node_selector: NotRequired[pulumi.Input[Mapping[str, str]]]
    """Node labels the cache's pods must run on, checked as the API server checks a pod's nodeSelector."""
    tolerations: NotRequired[pulumi.Input[Sequence[Mapping[str, Any]]]]
    """Tolerations of the cache's pods, as in a pod spec and checked as the API server checks them."""
    affinity: NotRequired[pulumi.Input[Mapping[str, Any]]]
    """Affinity of the cache's pods, as in a pod spec and checked as the API server checks it (replicas are spread over nodes anyway)."""
    priority_class_name: NotRequired[pulumi.Input[str]]
    """PriorityClass of the cache's pods."""
    image_pull_secrets: NotRequired[pulumi.Input[Sequence[pulumi.Input[str]]]]
    """Secrets in the cache's namespace (kubernetes.io/dockerconfigjson, e.g. from kubectl create secret docker-registry) the kubelet pulls the image with: for a private mirror of it."""
    service_account_name: NotRequired[pulumi.Input[str]]
    """An existing ServiceAccount in the cache's namespace for its pods (one with a cloud identity for object storage, say; default the namespace's default). Either way no API token is mounted into the pods (automountServiceAccountToken false): the cache never calls the Kubernetes API."""
    network_policy: NotRequired[pulumi.Input[bool]]
    """Whether a NetworkPolicy lets in only the cache port (from ingress_namespace with exposure ingress, from gateway_proxy_namespace with exposure gateway, from anywhere otherwise) and the metrics port (from metrics_namespace), and lets out only DNS and the ports of the upstreams, object storage and the proxies extra_env names (HTTPS_PROXY, HTTP_PROXY) (default true)."""
    ingress_namespace: NotRequired[pulumi.Input[str]]
    """With exposure ingress and network_policy, the ingress controller's namespace, the only one let in (default ingress-nginx)."""
    gateway_proxy_namespace: NotRequired[pulumi.Input[str]]
    """With exposure gateway and network_policy, the namespace the Gateway's proxy pods run in, the only one let in (default the Gateway's namespace, as with Istio; Envoy Gateway runs them in its own namespace, envoy-gateway-system by default)."""
    metrics: NotRequired[pulumi.Input[bool]]
    """Serve Prometheus metrics (/metrics) and health (/debug/health, then used by the probes) on distribution's debug port 5001, through a ClusterIP Service <name>-metrics (default false). That port also serves /debug/pprof and /debug/vars over plain HTTP."""
    metrics_namespace: NotRequired[pulumi.Input[str]]
    """With metrics and network_policy, the namespace of the scraper, the only one let in to the metrics port (default monitoring)."""
    service_monitor: NotRequired[pulumi.Input[bool]]
    """With metrics, a Prometheus Operator ServiceMonitor scraping the metrics Service (default false)."""
    monitoring_labels: NotRequired[pulumi.Input[Mapping[str, str]]]
    """With service_monitor, labels on the ServiceMonitor and the PrometheusRule, for the Prometheus Operator's selectors (kube-prometheus-stack selects release: <its release name>)."""
    alerts: NotRequired[pulumi.Input[bool]]
    """With service_monitor, a PrometheusRule <name> alerting on the cache (default true): down, fewer replicas answering than asked, its volume almost full and full within days, pulls failing, the serving certificate or its CA expiring, a low hit ratio (information). Each links its runbook in docs/operate.md (Alerts); the thresholds are the alert_* inputs."""
    alert_labels: NotRequired[pulumi.Input[Mapping[str, str]]]
    """With alerts, labels added to every alert, for Alertmanager's routes (e.g. {team: registry}); each alert sets its own severity: critical, warning or info."""
    alert_runbook_url: NotRequired[pulumi.Input[str]]
    """With alerts, the http(s) URL of docs/operate.md where your team reads it: each alert's runbook_url is it with the alert's #anchor (default docs/operate.md, the path in this repository)."""
    alert_certificate_days: NotRequired[pulumi.Input[int]]
    """With alerts, how many days before the serving certificate or its CA expires the alert fires (default 14): from the expiry the component knows (cert_expires_at, ca_expires_at), moved by pulumi up with the certificate; with cert_manager_issuer, from cert-manager's certmanager_certificate_expiration_timestamp_seconds."""
    alert_volume_used_percent: NotRequired[pulumi.Input[int]]
    """With alerts and storage_size, the percentage of the volume used above which it is almost full (default 90), from the kubelet's volume stats."""
    alert_volume_full_days: NotRequired[pulumi.Input[int]]
    """With alerts and storage_size, the alert fires when the volume will be full within this many days at the rate of the last 6 hours (default 4; predict_linear)."""
    alert_pull_error_percent: NotRequired[pulumi.Input[int]]
    """With alerts, the percentage of blob and manifest requests answered with a server error (5xx: mostly pulls from MSR failing) above which the alert fires (default 5)."""
    alert_hit_ratio_percent: NotRequired[pulumi.Input[int]]
    """With alerts, the percentage of proxied requests served from the cache below which an information alert fires (default 50). Needs distribution v3's registry_proxy_* counters; an image without them never fires it."""
    dashboard: NotRequired[pulumi.Input[bool]]
    """With metrics, a Grafana dashboard of the cache in a ConfigMap labelled grafana_dashboard: "1", which the Grafana sidecar of kube-prometheus-stack loads (default true): requests, hit ratio, bytes from MSR against bytes served, pull errors, volume use with its forecast, certificate expiry."""
    dashboard_namespace: NotRequired[pulumi.Input[str]]
    """With dashboard, the namespace of its ConfigMap: one the Grafana sidecar searches (its searchNamespace)."""
    ca_generation: NotRequired[pulumi.Input[int]]
    """Which generated CA signs the serving certificate (default 1). Step two of a CA rotation: raise it to the generation next_ca made, and drop next_ca; the old CA is then deleted. Not with tls_cert or cert_manager_issuer."""
    next_ca: NotRequired[pulumi.Input[bool]]
    """Step one of a CA rotation (default false): also make the CA of generation ca_generation + 1 and publish both in ca_cert_pem (the signing one first), while the current one still signs the serving certificate, so clients can trust the new CA before it is used. Not with tls_cert or cert_manager_issuer."""
    reload_on_certificate_change: NotRequired[pulumi.Input[bool]]
    """With cert_manager_issuer, annotate the Deployment for stakater Reloader (secret.reloader.stakater.com/reload), which restarts the pods when cert-manager renews the certificate: the cache reads it only at start. Reloader must run in the cluster (default false)."""
    adopt_existing: NotRequired[pulumi.Input[bool]]
    """Take over a cache deployed by MSR's manual procedure (namespace dtr): keep its pod selector app: dtr-cache, which a Deployment cannot change, and take over the fields kubectl owns in what it made (pulumi.com/patchForce) (default false). Delete its Deployment with --cascade=orphan first: its pods serve until the new Deployment has rolled them. The Kubernetes provider must update objects that exist (pulumi-kubernetes 4.25, which the lock pins, creates by server-side apply; from 4.29, set upsertExistingObjects on it)."""
    read_cluster: NotRequired[pulumi.Input[bool]]
    """Whether the component reads from the cluster what only the cluster knows (default true): whether the class storage_class names allows volume expansion (so that a larger storage_size grows the claim in place), and the Secret upstream_ca_secret names. False where the Kubernetes provider renders manifests instead of deploying (renderYamlToDirectory, which reaches no cluster; the stack program sets it so): a change of storage_size then replaces the claim, and upstream_ca_secret is refused."""
    cert_manager_issuer: NotRequired[pulumi.Input[CertManagerIssuer]]
    """{kind: Issuer|ClusterIssuer, name, group (optional)}: cert-manager issues the serving certificate with the same SANs instead of the generated one; not with tls_cert. An external issuer (AWS Private CA, Google CAS, step-ca, ...) is named by its kind and API group, and its controller must run in the cluster. The cache reads its certificate at start: restart it after a renewal."""
    upstream_ca_secret: NotRequired[pulumi.Input[SecretKeyRef]]
    """{namespace, name, key (default ca.crt)}: read MSR's CA from an existing Secret (e.g. msr/msr-nginx-ca-cert) instead of upstream_ca_cert. Read at deployment; a render, which reaches no cluster, uses a stand-in CA and says so."""
    extra_env: NotRequired[pulumi.Input[Mapping[str, pulumi.Input[str]]]]
    """More environment variables of the cache container (distribution reads REGISTRY_* as config overrides), none the component sets itself (REGISTRY_HTTP_*, storage credentials, ...). A value that is an Output (a secret, such as a proxy URL with a password) goes to a Secret of its own and reaches the container through valueFrom.secretKeyRef, never into the Deployment; in a stack, an extraEnv holding a value set with --secret (pulumi config set --secret --path extraEnv.HTTPS_PROXY ...) has all its values go there, as Pulumi marks the whole key secret. A proxy (HTTPS_PROXY, HTTP_PROXY, as Go reads them: http://host:port, or host:port) is checked, and the network policy lets the cache out to its port."""
    pod_annotations: NotRequired[pulumi.Input[Mapping[str, str]]]
    """Annotations on the cache's pods."""


class MsrCache(pulumi.ComponentResource):
    """An MSR content cache: its namespace, TLS, config, Secret, Deployment, storage and exposure."""

    url: pulumi.Output[str]
    """The https URL of the cache: what MSR registers and downstream caches list as upstream."""
    ca_cert_pem: pulumi.Output[str]
    """PEM of the CA clients must trust (Docker's certs.d/<host>/ca.crt; MSR for a chained cache)."""
    namespace: pulumi.Output[str]
    """The namespace of the cache's objects."""
    service_name: pulumi.Output[str]
    """The name of the cache's Service."""
    registration: pulumi.Output[str]
    """JSON body for MSR's POST /api/v0/content_caches: {"name", "host"}."""
    cert_expires_at: pulumi.Output[str]
    """When the serving certificate expires (RFC 3339, UTC): the generated or given one's; empty with cert_manager_issuer, which renews it itself."""
    ca_expires_at: pulumi.Output[str]
    """When the CA that signs the serving certificate expires (RFC 3339, UTC): the generated one's, tls_ca_cert's or a self-signed tls_cert's; empty with cert_manager_issuer without tls_ca_cert."""
    cert_sans: pulumi.Output[Sequence[str]]
    """The serving certificate's subject alternative names, DNS:<name> and IP:<address>, the hosts clients may dial it by: tls_cert's, or those the generated or cert-manager's certificate is made with (the hosts, the load balancer's address, the Service's names)."""

    def __init__(
        self, name: str, args: MsrCacheArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        # Every input is checked before anything is registered, the component itself included.
        s = config.parse(config.from_args(args), resource_name=name)
        p = plan(s)
        super().__init__(TYPE, name, {}, opts)
        for warning in s.warnings():  # accepted, but likely not what was meant
            pulumi.log.warn(warning, resource=self)
        self._name, self._s, self._p = name, s, p
        self._child = pulumi.ResourceOptions(parent=self)
        self._ns = self._namespace()
        first = pulumi.ResourceOptions(delete_before_replace=p.service_replaced_first)
        service = self._object(k8s.core.v1.Service, "service", p.service, opts=first)
        d = deployed(name, s, p, self._ns, service, self._child)
        trust, tls_files = serving_certificate(name, d, self._child)
        if p.tls == "cert-manager":
            self._custom("certificate", CERT_MANAGER_VERSION, "Certificate", d.certificate_spec())
        claim = self._workload(d, tls_files)
        self._extras(d)
        self._monitoring(d, claim, trust)

        self.url = d.url
        self.ca_cert_pem = trust.ca_cert_pem
        self.namespace = self._ns
        self.service_name = service.metadata.name
        self.registration = d.url.apply(lambda u: json.dumps({"name": name, "host": u}))
        self.cert_expires_at = trust.cert_expires_at
        self.cert_sans = d.cert_sans()
        self.ca_expires_at = trust.ca_expires_at
        self.register_outputs({key: getattr(self, key) for key in MsrCache.__annotations__})

    def _namespace(self) -> pulumi.Output[str]:
        s = self._s
        if not self._p.create_namespace:
            return pulumi.Output.from_input(s.namespace)
        meta: Any = object_metadata(s, self._p, "namespace", None)  # the manifest's form
        ns = k8s.core.v1.Namespace(f"{self._name}-namespace", metadata=meta, opts=self._child)
        # Through the resource's output, so everything in it waits for the namespace.
        return ns.metadata.name

    def _object(
        self,
        make: Callable[..., _Resource],
        role: str,
        spec: Any,
        opts: pulumi.ResourceOptions | None = None,
        annotations: pulumi.Input[Mapping[str, str]] | None = None,
        **fields: Any,
    ) -> _Resource:
        """A Kubernetes object of the cache, `<name>-<role>`, with its metadata. `spec` (or the
        `fields` in its place) is in the manifest's form (camelCase keys), which the SDK's typed
        specs (snake_case keys) leave out: hence `make` taking any arguments."""
        meta = object_metadata(self._s, self._p, role, self._ns, annotations)
        options = pulumi.ResourceOptions.merge(self._child, opts)
        if spec is not None:
            fields["spec"] = spec
        return make(f"{self._name}-{role}", metadata=meta, opts=options, **fields)

    def _secret(
        self, role: str, data: Mapping[str, pulumi.Input[str]] | None
    ) -> k8s.core.v1.Secret | None:
        """An auto-named Opaque Secret whose every value is sent as a secret; none without data."""
        if data is None:
            return None
        values = pulumi.Output.secret(dict(data))
        return self._object(k8s.core.v1.Secret, role, None, type="Opaque", string_data=values)

    def _workload(
        self, d: Deployed, tls_files: Mapping[str, pulumi.Output[str]]
    ) -> pulumi.Output[str] | None:
        """The ConfigMap, Secrets and claim, then the Deployment holding their generated names;
        the claim's name (None: no claim)."""
        s, p = self._s, self._p
        config_yaml = {rc.CONFIG_FILE: d.config_yaml()}
        config_map = self._object(k8s.core.v1.ConfigMap, "config", None, data=config_yaml)
        secret = self._secret("certs", self._secret_files(d, tls_files))
        assert secret is not None
        storage_secret = self._secret("storage", d.storage_credentials())
        env_secret = self._secret("env", d.secret_env())
        claim = None
        if p.claim is not None:
            # A raise of storageSize grows the claim in place where its class allows volume
            # expansion; elsewhere the annotated size changes, and the claim is replaced.
            resize = pulumi.ResourceOptions(replace_on_changes=[workload.FIXED_SIZE_PATH])
            make = k8s.core.v1.PersistentVolumeClaim
            claim = self._object(make, "data", p.claim, resize, d.claim_annotations())
        spec = workload.deployment_spec(
            s,
            config_map=config_map.metadata.name,
            secret=secret.metadata.name,
            claim=claim.metadata.name if claim else None,
            tls_secret=p.certificate_secret,
            storage_secret=storage_secret.metadata.name if storage_secret else None,
            env_secret=env_secret.metadata.name if env_secret else None,
        )
        self._object(k8s.apps.v1.Deployment, "deployment", spec)
        return claim.metadata.name if claim else None

    def _secret_files(
        self, d: Deployed, tls_files: Mapping[str, pulumi.Output[str]]
    ) -> dict[str, pulumi.Input[str]]:
        """The cache Secret's files (the plan's `secret_files`)."""
        password = random.RandomPassword(
            f"{self._name}-http-secret", length=32, special=False, opts=self._child
        )
        files: dict[str, pulumi.Input[str]] = {rc.HTTP_SECRET_KEY: password.result, **tls_files}
        if d.upstream_ca is not None:
            files[rc.UPSTREAM_CA_FILE] = d.upstream_ca
        assert tuple(files) == self._p.secret_files, (tuple(files), self._p.secret_files)
        return files

    def _extras(self, d: Deployed) -> None:
        """The plan's other objects: disruption budget, network policy, metrics, exposure."""
        p = self._p
        if p.disruption_budget is not None:
            self._object(
                k8s.policy.v1.PodDisruptionBudget, "disruption-budget", p.disruption_budget
            )
        if p.network_policy:
            self._object(k8s.networking.v1.NetworkPolicy, "network-policy", d.network_policy_spec())
        if p.metrics_service is not None:
            self._object(k8s.core.v1.Service, "metrics-service", p.metrics_service)
        if p.service_monitor is not None:
            monitoring = "monitoring.coreos.com/v1"
            self._custom("service-monitor", monitoring, "ServiceMonitor", p.service_monitor)
        if p.ingress is not None:
            self._object(k8s.networking.v1.Ingress, "ingress", p.ingress)
        if p.gateway is not None:
            self._custom("gateway", exposure.GATEWAY_API_VERSION, "Gateway", p.gateway)
        if p.tls_route is not None:
            self._custom("tls-route", exposure.GATEWAY_API_VERSION, "TLSRoute", p.tls_route)

    def _monitoring(self, d: Deployed, claim: pulumi.Output[str] | None, trust: Trust) -> None:
        """The PrometheusRule and the Grafana dashboard, which watch the claim and certificates."""
        p = self._p
        if not p.alerts and p.dashboard_namespace is None:
            return
        expiries = pulumi.Output.all(trust.cert_expires_at, trust.ca_expires_at).apply(
            lambda a: Expiries(a[0], a[1])
        )
        if p.alerts:
            spec = d.rule_spec(claim, expiries)
            self._custom("alerts", monitoring.RULE_API_VERSION, "PrometheusRule", spec)
        if p.dashboard_namespace is not None:
            data = d.dashboard_data(claim, expiries)
            self._object(k8s.core.v1.ConfigMap, "dashboard", None, data=data)

    def _custom(self, role: str, api_version: str, kind: str, spec: Any) -> None:
        resource = k8s.apiextensions.CustomResource
        self._object(resource, role, spec, api_version=api_version, kind=kind)
