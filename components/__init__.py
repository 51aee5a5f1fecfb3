"""msr-cache: the content cache of Mirantis Secure Registry on Kubernetes, as a Pulumi component."""

from .msr_cache import MsrCache, MsrCacheArgs
from .settings import AccessMode, ConfigError, Exposure, KeyAlgorithm, LogLevel

__all__ = [
    "AccessMode",
    "ConfigError",
    "Exposure",
    "KeyAlgorithm",
    "LogLevel",
    "MsrCache",
    "MsrCacheArgs",
]
