"""msr-cache: the content cache of Mirantis Secure Registry on Kubernetes, as a Pulumi component."""

from .msr_cache import ContainerResources, MsrCache, MsrCacheArgs, ResourceAmounts
from .settings import AccessMode, ConfigError, Exposure, KeyAlgorithm, LogLevel

__version__ = "0.1.0"

__all__ = [
    "AccessMode",
    "ConfigError",
    "ContainerResources",
    "Exposure",
    "KeyAlgorithm",
    "LogLevel",
    "MsrCache",
    "MsrCacheArgs",
    "ResourceAmounts",
]
