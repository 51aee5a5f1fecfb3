"""The MsrCache component: an MSR content cache on Kubernetes, from validated settings."""

import asyncio
import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple, NotRequired, TypedDict, TypeVar

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random
import pulumi_tls as tls

from .inputs import settings as config
from .inputs.model import AccessMode, Exposure, KeyAlgorithm, LogLevel, SecretRef
from .inputs.problems import spelled
from .objects import certificates, exposure, network_policy, workload
from .objects import registry_config as rc
from .objects.certificates import SubjectAltNames
from .objects.plan import plan, proxy_ports

TYPE = "msr-cache:index:MsrCache"

_Resource = TypeVar("_Resource", bound=pulumi.CustomResource)


class ResourceAmounts(TypedDict):
    """Amounts of a container's resources, as Kubernetes quantities."""

    cpu: NotRequired[pulumi.Input[str]]
    """CPU, e.g. 500m or 2."""
    memory: NotRequired[pulumi.Input[str]]
    """Memory, e.g. 512Mi or 2Gi."""
    ephemeral_storage: NotRequired[pulumi.Input[str]]
    """Local ephemeral storage, e.g. 1Gi."""


class ContainerResources(TypedDict):
    """The cache container's resource requests and limits."""

    requests: NotRequired[pulumi.Input[ResourceAmounts]]
    """What the scheduler reserves for the container."""
    limits: NotRequired[pulumi.Input[ResourceAmounts]]
    """What the container may use at most."""


class CertManagerIssuer(TypedDict):
    """A cert-manager issuer that signs the serving certificate."""

    kind: pulumi.Input[str]
    """Issuer (in the cache's namespace) or ClusterIssuer; with group, an external issuer's kind (e.g. AWSPCAClusterIssuer)."""
    name: pulumi.Input[str]
    """The issuer's name."""
    group: NotRequired[pulumi.Input[str]]
    """The issuer's API group: cert-manager.io (default) for cert-manager's own, an external issuer's otherwise (e.g. awspca.cert-manager.io)."""


class SecretKeyRef(TypedDict):
    """A key of an existing Secret in the cluster."""

    namespace: pulumi.Input[str]
    """The Secret's namespace."""
    name: pulumi.Input[str]
    """The Secret's name."""
    key: NotRequired[pulumi.Input[str]]
    """The key holding the PEM (default ca.crt)."""


class GatewayReference(TypedDict):
    """An existing Gateway API Gateway, and optionally the listener a TLSRoute attaches to."""

    name: pulumi.Input[str]
    """The Gateway's name."""
    namespace: pulumi.Input[str]
    """The Gateway's namespace."""
    section_name: NotRequired[pulumi.Input[str]]
    """The name of the Gateway's TLS Passthrough listener to attach to (default: every listener that admits the route)."""


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


class _Trust(NamedTuple):
    """What clients trust (caCertPem) and when the certificates expire (RFC 3339, or "")."""

    ca_cert_pem: pulumi.Output[str]
    cert_expires_at: pulumi.Output[str]
    ca_expires_at: pulumi.Output[str]


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
        labels = workload.labels(s.name, s.image, s.adopt_existing)
        namespace = self._namespace(workload.namespace_labels(s))
        self._labels = labels
        self._meta = self._annotated({"namespace": namespace, "labels": labels})
        first = pulumi.ResourceOptions(delete_before_replace=p.service_replaced_first)
        service = self._object(k8s.core.v1.Service, "service", p.service, named=True, opts=first)
        lb_address: pulumi.Output[str | None] = (
            service.status.apply(lambda st: _assigned(exposure.load_balancer_address(st)))
            if p.reads_load_balancer
            else pulumi.Output.from_input(None)
        )
        place = pulumi.Output.all(namespace, lb_address)
        # With hosts, the URL is the first one's: only the SANs follow the address.
        url = (place if not s.hosts else pulumi.Output.all(namespace, None)).apply(
            lambda a: exposure.url(s.mode, s.hosts, s.port, s.name, a[0], a[1])
        )
        sans = place.apply(lambda a: certificates.subject_alt_names(s.hosts, s.name, a[0], a[1]))
        upstreams = pulumi.Output.from_input(s.upstreams).apply(
            lambda u: config.resolved("upstreams", u)
        )
        env = self._resolved_env()
        trust = self._workload(url, sans, upstreams, env)
        self._extras(upstreams, env)

        self.url = url
        self.ca_cert_pem = trust.ca_cert_pem
        self.namespace = namespace
        self.service_name = service.metadata.name
        self.registration = url.apply(lambda u: json.dumps({"name": name, "host": u}))
        self.cert_expires_at = trust.cert_expires_at
        self.cert_sans = (
            _checked("tlsCert", s.tls_cert).apply(certificates.pem_san_texts)
            if s.tls_cert is not None
            else sans.apply(certificates.san_texts)
        )
        self.ca_expires_at = trust.ca_expires_at
        self.register_outputs(
            {
                "url": self.url,
                "ca_cert_pem": self.ca_cert_pem,
                "namespace": self.namespace,
                "service_name": self.service_name,
                "registration": self.registration,
                "cert_expires_at": self.cert_expires_at,
                "cert_sans": self.cert_sans,
                "ca_expires_at": self.ca_expires_at,
            }
        )

    def _annotated(self, meta: k8s.meta.v1.ObjectMetaArgsDict) -> k8s.meta.v1.ObjectMetaArgsDict:
        """`meta` with the plan's annotations of every object."""
        if self._p.annotations:
            meta["annotations"] = dict(self._p.annotations)
        return meta

    def _object(
        self,
        kind: Callable[..., _Resource],
        role: str,
        spec: Any,
        named: bool = False,
        opts: pulumi.ResourceOptions | None = None,
        **metadata: Any,
    ) -> _Resource:
        """A Kubernetes object of the cache, `<name>-<role>`: named after the cache, or left to
        the provider's auto-name (the ConfigMap and Secrets: a change of their data then gives a
        new name, which the Deployment follows, rolling its pods). `spec` is in the manifest's
        form (camelCase keys), which the SDK's typed specs (snake_case keys) leave out: hence
        `kind` taking any arguments."""
        meta = {**self._meta, **metadata, **({"name": self._s.name} if named else {})}
        if "annotations" in metadata:  # beside the plan's, on every object
            meta["annotations"] = {**self._p.annotations, **metadata["annotations"]}
        options = pulumi.ResourceOptions.merge(self._child, opts)
        return kind(f"{self._name}-{role}", metadata=meta, spec=spec, opts=options)

    def _workload(
        self,
        url: pulumi.Output[str],
        sans: pulumi.Output[SubjectAltNames],
        upstreams: pulumi.Output[Sequence[str]],
        env: pulumi.Output[Mapping[str, str]] | None,
    ) -> _Trust:
        """The certificates, config.yaml, Secrets, claim and Deployment; returns what clients
        trust."""
        s, p = self._s, self._p
        files, trust = self._files(sans)
        config_map = self._config_map(url, upstreams)
        secret = _secret(f"{self._name}-certs", self._meta, files, self._child)
        storage_secret, env_secret = self._credentials(env)
        claim = self._claim() if p.claim is not None else None
        spec = workload.deployment_spec(
            s,
            config_map=config_map.metadata.name,
            secret=secret.metadata.name,
            claim=claim.metadata.name if claim else None,
            tls_secret=p.certificate_secret,
            storage_secret=storage_secret.metadata.name if storage_secret else None,
            env_secret=env_secret.metadata.name if env_secret else None,
        )
        annotations = dict(p.deployment_annotations)
        extra: dict[str, Any] = {"annotations": annotations} if annotations else {}
        self._object(k8s.apps.v1.Deployment, "deployment", spec, named=True, **extra)
        return trust

    def _config_map(
        self, url: pulumi.Output[str], upstreams: pulumi.Output[Sequence[str]]
    ) -> k8s.core.v1.ConfigMap:
        """The ConfigMap of config.yaml, auto-named: a change of it rolls the pods."""
        s, storage = self._s, self._s.object_storage
        config_yaml = pulumi.Output.all(url, upstreams).apply(
            lambda a: rc.dump(
                rc.registry_config(
                    log_level=s.log_level.value,
                    host_url=a[0],
                    blob_ttl=s.blob_ttl,
                    upstreams=a[1],
                    trusts_upstream_ca=s.trusts_upstream_ca,
                    object_storage=storage.config() if storage else None,
                    metrics=s.metrics,
                )
            )
        )
        return k8s.core.v1.ConfigMap(
            f"{self._name}-config",
            metadata=self._meta,
            data={rc.CONFIG_FILE: config_yaml},
            opts=self._child,
        )

    def _credentials(
        self, env: pulumi.Output[Mapping[str, str]] | None
    ) -> tuple[k8s.core.v1.Secret | None, k8s.core.v1.Secret | None]:
        """The Secrets of the object storage credentials and of extraEnv's Outputs (secrets),
        which reach the container as env from them; None where there is nothing to keep."""
        p, storage, name, meta, child = (
            self._p,
            self._s.object_storage,
            self._name,
            self._meta,
            self._child,
        )
        storage_secret = (
            _secret(
                f"{name}-storage",
                meta,
                {key: storage.credentials[k] for k, key in p.storage_secret_keys.items()},
                child,
            )
            if storage and p.storage_secret_keys
            else None
        )
        env_secret = (
            _secret(
                f"{name}-env",
                meta,
                {key: env.apply(lambda e, v=var: e[v]) for var, key in p.env_secret_keys.items()},
                child,
            )
            if env is not None and p.env_secret_keys
            else None
        )
        return storage_secret, env_secret

    def _claim(self) -> k8s.core.v1.PersistentVolumeClaim:
        """The claim for the blobs. A raise of storageSize grows it in place where the class
        storageClass names allows volume expansion (read from the cluster); with the cluster's
        default class, which the program cannot name, one that does not allow it, or none read
        (readCluster false), a change of size replaces it (a new, empty volume), as the preview
        shows."""
        s, p = self._s, self._p
        assert s.storage is not None and p.claim is not None
        storage = s.storage
        expands: pulumi.Output[bool | None] = (
            k8s.storage.v1.StorageClass.get(
                f"{self._name}-storage-class", storage.storage_class, opts=self._child
            ).allow_volume_expansion
            if storage.storage_class is not None and s.read_cluster
            else pulumi.Output.from_input(None)
        )
        annotations = expands.apply(
            lambda e: {**p.annotations, **workload.claim_annotations(storage, e)}
        )
        resize = pulumi.ResourceOptions(replace_on_changes=[workload.FIXED_SIZE_PATH])
        spec: Any = p.claim  # in the manifest's form, as _object passes specs
        return k8s.core.v1.PersistentVolumeClaim(
            f"{self._name}-data",
            metadata={**self._meta, "annotations": annotations},
            spec=spec,
            opts=pulumi.ResourceOptions.merge(self._child, resize),
        )

    def _files(
        self, sans: pulumi.Output[SubjectAltNames]
    ) -> tuple[dict[str, pulumi.Input[str]], _Trust]:
        """The cache Secret's files (the plan's `secret_files`) and what clients trust."""
        s, p = self._s, self._p
        password = random.RandomPassword(
            f"{self._name}-http-secret", length=32, special=False, opts=self._child
        )
        files: dict[str, pulumi.Input[str]] = {rc.HTTP_SECRET_KEY: password.result}
        if p.tls == "cert-manager":
            self._certificate(sans)
            # cert-manager renews the certificate: only a given CA's expiry is known here.
            ca = _checked("tlsCaCert", s.tls_ca_cert) if s.tls_ca_cert is not None else None
            none = pulumi.Output.from_input("")
            trust = _Trust(ca or none, none, ca.apply(certificates.expires_at) if ca else none)
        else:
            trust, files[rc.CERT_FILE], files[rc.KEY_FILE] = self._tls(sans)
        if p.upstream_ca == "given" and s.upstream_ca_cert is not None:
            files[rc.UPSTREAM_CA_FILE] = _checked("upstreamCaCert", s.upstream_ca_cert)
        elif p.upstream_ca == "secret" and s.upstream_ca_secret is not None:
            files[rc.UPSTREAM_CA_FILE] = self._read_upstream_ca(s.upstream_ca_secret)
        assert tuple(files) == p.secret_files, (tuple(files), p.secret_files)
        return files, trust

    def _resolved_env(self) -> pulumi.Output[Mapping[str, str]] | None:
        """extraEnv once its Outputs (secrets) resolve, checked then as plain values are by
        `parse`; None when every value is plain."""
        s = self._s
        if not self._p.env_secret_keys:
            return None
        return pulumi.Output.all(**s.extra_env).apply(lambda e: config.resolved("extraEnv", e))

    def _extras(
        self, upstreams: pulumi.Output[Sequence[str]], env: pulumi.Output[Mapping[str, str]] | None
    ) -> None:
        """The disruption budget, network policy, metrics objects, and Ingress or Gateway API
        objects the plan has."""
        s, p = self._s, self._p
        if p.disruption_budget is not None:
            self._object(
                k8s.policy.v1.PodDisruptionBudget, "disruption-budget", p.disruption_budget, True
            )
        if p.network_policy:
            selector = workload.selector_labels(s.name, s.adopt_existing)
            # A proxy's port is no secret, and a secret spec would hide the whole policy from
            # previews and the state: only the ports leave the secret extraEnv.
            proxies: pulumi.Output[list[int]] = (
                pulumi.Output.unsecret(env.apply(lambda e: sorted(proxy_ports(e))))
                if env is not None and p.proxies_resolve_later
                else pulumi.Output.from_input([])
            )
            spec = pulumi.Output.all(upstreams, proxies).apply(
                lambda a: network_policy.network_policy_spec(
                    s, selector, network_policy.upstream_ports(a[0]) | p.egress_ports | set(a[1])
                )
            )
            self._object(k8s.networking.v1.NetworkPolicy, "network-policy", spec, named=True)
        if p.metrics_service is not None:
            labels = {**self._labels, **exposure.METRICS_LABELS}
            self._object(
                k8s.core.v1.Service,
                "metrics-service",
                p.metrics_service,
                name=f"{s.name}-metrics",
                labels=labels,
            )
        if p.service_monitor is not None:
            self._custom(
                "service-monitor", "monitoring.coreos.com/v1", "ServiceMonitor", p.service_monitor
            )
        if p.ingress is not None:
            annotations = dict(exposure.INGRESS_ANNOTATIONS)
            self._object(
                k8s.networking.v1.Ingress, "ingress", p.ingress, True, annotations=annotations
            )
        if p.gateway is not None:
            self._custom("gateway", exposure.GATEWAY_API_VERSION, "Gateway", p.gateway)
        if p.tls_route is not None:
            self._custom("tls-route", exposure.GATEWAY_API_VERSION, "TLSRoute", p.tls_route)

    def _custom(self, role: str, api_version: str, kind: str, spec: Any) -> None:
        """A custom resource of the cache, named after it."""
        k8s.apiextensions.CustomResource(
            f"{self._name}-{role}",
            api_version=api_version,
            kind=kind,
            metadata={**self._meta, "name": self._s.name},
            spec=spec,
            opts=self._child,
        )

    def _certificate(self, sans: pulumi.Output[SubjectAltNames]) -> None:
        """A cert-manager Certificate with the SANs the exposure needs, into the plan's Secret."""
        s, secret_name = self._s, self._p.certificate_secret
        assert s.cert_manager_issuer is not None and secret_name is not None
        issuer, algorithm = s.cert_manager_issuer, s.tls_key_algorithm or KeyAlgorithm.RSA
        spec = sans.apply(
            lambda x: certificates.certificate_spec(x, secret_name, issuer, algorithm)
        )
        self._custom("certificate", "cert-manager.io/v1", "Certificate", spec)

    def _read_upstream_ca(self, ref: SecretRef) -> pulumi.Output[str]:
        """The upstream CA PEM from an existing Secret (read from the cluster, at deployment)."""
        source = k8s.core.v1.Secret.get(
            f"{self._name}-upstream-ca", f"{ref.namespace}/{ref.name}", opts=self._child
        )
        return source.data.apply(lambda data: config.resolved_secret_pem(ref, data))

    def _namespace(self, labels: Mapping[str, str]) -> pulumi.Output[str]:
        s = self._s
        if not self._p.create_namespace:
            return pulumi.Output.from_input(s.namespace)
        ns = k8s.core.v1.Namespace(
            f"{self._name}-namespace",
            metadata=self._annotated({"name": s.namespace, "labels": labels}),
            opts=self._child,
        )
        # Through the resource's output, so everything in it waits for the namespace.
        return ns.metadata.name

    def _tls(
        self, sans: pulumi.Output[SubjectAltNames]
    ) -> tuple[_Trust, pulumi.Output[str], pulumi.Output[str]]:
        """(what clients trust, serving certificate, serving key): yours, or generated."""
        s, name, child = self._s, self._name, self._child
        if s.tls_cert is not None and s.tls_key is not None:
            # tlsCaCert, when given, must have issued tlsCert: it is what clients trust.
            given_ca = _checked("tlsCaCert", s.tls_ca_cert) if s.tls_ca_cert is not None else None
            pair = pulumi.Output.all(
                _checked("tlsCert", s.tls_cert), _checked("tlsKey", s.tls_key), given_ca
            ).apply(lambda p: _checked_pair(p, s.hosts))
            cert = pair.apply(lambda p: p[0])
            ca = pair.apply(lambda p: p[2] or p[0])
            expiry = (cert.apply(certificates.expires_at), ca.apply(certificates.expires_at))
            trust = _Trust(ca, *expiry)
            return trust, cert, pulumi.Output.secret(pair.apply(lambda p: p[1]))

        kind = certificates.KEYS[s.tls_key_algorithm or KeyAlgorithm.RSA]
        key_args = kind.tls_args
        # The CA signing the serving certificate, then a rotation's next one: both trusted.
        (ca_key, ca), *following = [self._ca(g, key_args) for g in self._p.ca_generations]
        bundle = pulumi.Output.all(ca.cert_pem, *(c.cert_pem for _, c in following)).apply(
            lambda pems: "".join(pems)
        )
        key = tls.PrivateKey(f"{name}-key", **key_args, opts=child)
        request = tls.CertRequest(
            f"{name}-csr",
            private_key_pem=key.private_key_pem,
            subject={
                "common_name": sans.apply(lambda x: x.common_name),
                "organization": "msr-cache",
            },
            dns_names=sans.apply(lambda x: list(x.dns_names)),
            ip_addresses=sans.apply(lambda x: list(x.ip_addresses)),
            opts=child,
        )
        cert = tls.LocallySignedCert(
            f"{name}-cert",
            cert_request_pem=request.cert_request_pem,
            ca_private_key_pem=ca_key.private_key_pem,
            ca_cert_pem=ca.cert_pem,
            validity_period_hours=certificates.CERT_VALIDITY_HOURS,
            early_renewal_hours=certificates.CERT_EARLY_RENEWAL_HOURS,
            allowed_uses=list(kind.serving_uses),
            opts=child,
        )
        # pulumi-tls' own record of each certificate's end (RFC 3339).
        trust = _Trust(bundle, cert.validity_end_time, ca.validity_end_time)
        return trust, cert.cert_pem, pulumi.Output.secret(key.private_key_pem)

    def _ca(
        self, generation: int, key_args: Mapping[str, Any]
    ) -> tuple[tls.PrivateKey, tls.SelfSignedCert]:
        """The generated CA of a generation: `<name>-ca` for the first (as before rotations
        existed), `<name>-ca<generation>` after it, so each keeps its own state."""
        s, child = self._s, self._child
        role = "ca" if generation == 1 else f"ca{generation}"
        key = tls.PrivateKey(f"{self._name}-{role}-key", **key_args, opts=child)
        cert = tls.SelfSignedCert(
            f"{self._name}-{role}",
            private_key_pem=key.private_key_pem,
            is_ca_certificate=True,
            subject={
                "common_name": certificates.ca_common_name(s.name, s.namespace, generation),
                "organization": "msr-cache",
            },
            validity_period_hours=certificates.CA_VALIDITY_HOURS,
            early_renewal_hours=certificates.CA_EARLY_RENEWAL_HOURS,
            allowed_uses=list(certificates.CA_USES),
            opts=child,
        )
        return key, cert


def _secret(
    resource: str, meta: k8s.meta.v1.ObjectMetaArgsDict, data: Mapping[str, pulumi.Input[str]],
    child: pulumi.ResourceOptions,
) -> k8s.core.v1.Secret:  # fmt: skip
    """An auto-named Opaque Secret whose every value is sent as a secret."""
    return k8s.core.v1.Secret(
        resource,
        metadata=meta,
        type="Opaque",
        string_data=pulumi.Output.secret(dict(data)),
        opts=child,
    )


def _assigned(address: str | None) -> pulumi.Input[str | None]:
    """A load balancer's address; unknown in a preview while none is assigned (a Service that
    becomes a LoadBalancer), since `pulumi up` waits for one: the preview then shows the URL,
    the certificate and its Secret changing, as `up` changes them."""
    if address is None and pulumi.runtime.is_dry_run():
        known: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        known.set_result(False)
        value: asyncio.Future[str | None] = asyncio.get_running_loop().create_future()
        value.set_result(None)
        return pulumi.Output(set(), value, known)
    return address


def _checked(key: str, value: pulumi.Input[str]) -> pulumi.Output[str]:
    """A deferrable input, checked when it resolves (plain ones were checked by `parse`); a
    trust bundle's certificates Go clients skip are warned of then, as Settings.warnings()
    warns of a plain one's (naming each by its subject, never the PEM)."""
    checked = pulumi.Output.from_input(value).apply(lambda v: config.resolved(key, v))
    if isinstance(value, str) or key not in ("tlsCaCert", "upstreamCaCert"):
        return checked

    def warned(pem: str) -> str:
        for warning in config.bundle_warnings(spelled(key), pem):
            pulumi.log.warn(warning)
        return pem

    return checked.apply(warned)


def _checked_pair(given: list[Any], hosts: Sequence[str]) -> tuple[str, str, str | None]:
    cert, key, ca = given
    config.resolved_pair(cert, key, hosts, ca)
    return cert, key, ca
