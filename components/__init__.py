"""msr-cache: the content cache of Mirantis Secure Registry on Kubernetes, as a Pulumi component."""

from .model import AccessMode, Exposure, KeyAlgorithm, LogLevel
from .msr_cache import (
    ContainerResources,
    GatewayReference,
    MsrCache,
    MsrCacheArgs,
    ResourceAmounts,
)
from .problems import ConfigError

__version__ = "0.1.0"

__all__ = [
    "AccessMode",
    "ConfigError",
    "ContainerResources",
    "Exposure",
    "GatewayReference",
    "KeyAlgorithm",
    "LogLevel",
    "MsrCache",
    "MsrCacheArgs",
    "ResourceAmounts",
]
