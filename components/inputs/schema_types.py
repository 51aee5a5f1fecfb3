"""The object types of MsrCacheArgs' inputs, as the package schema names them (its analyzer reads
their annotations and docstrings wherever they are defined)."""

from typing import NotRequired, TypedDict

import pulumi


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
