"""msr-cache: the content cache of Mirantis Secure Registry on Kubernetes, as a Pulumi component."""

from .inputs.model import AccessMode, Exposure, KeyAlgorithm, LogLevel
from .inputs.problems import ConfigError
from .inputs.schema_types import ContainerResources, GatewayReference, ResourceAmounts
from .msr_cache import MsrCache, MsrCacheArgs

# The package's version, in this one place: pyproject.toml reads it (without importing this
# module), the package schema serves it, PulumiPlugin.yaml names it; CHANGELOG.md has a section
# for it. A release is a tag v<version> on the commit that sets it.
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
