"""What a cache is made of, as plain types: the enums its inputs choose from and the small values
the checks make of structured inputs. No checks and no Pulumi here: everything imports these."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from enum import StrEnum


class Exposure(StrEnum):
    """How clients outside the cluster reach the cache."""

    NODE_PORT = "nodePort"
    HOST_PORT = "hostPort"
    LOAD_BALANCER = "loadBalancer"
    INGRESS = "ingress"
    GATEWAY = "gateway"


class LogLevel(StrEnum):
    """distribution's log levels."""

    ERROR = "error"
    WARN = "warn"
    INFO = "info"
    DEBUG = "debug"


class KeyAlgorithm(StrEnum):
    """Algorithm of the generated CA and serving keys."""

    RSA = "RSA"
    ECDSA = "ECDSA"


class AccessMode(StrEnum):
    """Access mode of the cache's PersistentVolumeClaim."""

    READ_WRITE_ONCE = "ReadWriteOnce"
    READ_WRITE_ONCE_POD = "ReadWriteOncePod"
    READ_WRITE_MANY = "ReadWriteMany"


class IssuerKind(StrEnum):
    """The kind of cert-manager issuer that signs the serving certificate."""

    ISSUER = "Issuer"
    CLUSTER_ISSUER = "ClusterIssuer"


DEFAULT_IMAGE = "mirantis/dtr-content-cache:2.9.16"
DEFAULT_RESOURCES: Mapping[str, Mapping[str, str]] = {
    "requests": {"cpu": "100m", "memory": "256Mi"},
    "limits": {"cpu": "1", "memory": "1Gi"},
}


@dataclasses.dataclass(frozen=True)
class Storage:
    """A PersistentVolumeClaim for the cache's blobs."""

    size: str
    access_mode: AccessMode
    storage_class: str | None = None

    @property
    def single_node(self) -> bool:
        """Whether only one node (or pod) can mount the claim at a time."""
        return self.access_mode in (AccessMode.READ_WRITE_ONCE, AccessMode.READ_WRITE_ONCE_POD)


CERT_MANAGER_GROUP = "cert-manager.io"
"""The API group of cert-manager's own issuers (Issuer, ClusterIssuer)."""


@dataclasses.dataclass(frozen=True)
class Issuer:
    """A cert-manager issuer: cert-manager's own (group cert-manager.io, kind Issuer or
    ClusterIssuer), or an external issuer's, of any kind its API group defines."""

    kind: str
    name: str
    group: str = CERT_MANAGER_GROUP


@dataclasses.dataclass(frozen=True)
class GatewayRef:
    """A Gateway API Gateway (and optionally one of its listeners) a TLSRoute attaches to."""

    name: str
    namespace: str
    section_name: str | None = None
    """The listener's name; None: every listener of the Gateway that admits the route."""


@dataclasses.dataclass(frozen=True)
class SecretRef:
    """A key of an existing Secret in the cluster."""

    namespace: str
    name: str
    key: str
