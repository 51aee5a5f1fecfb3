"""The component package's entry point: Pulumi runs `python <this folder>` to host MsrCache.

The schema other languages see is inferred from MsrCache's annotations and docstrings.
"""

import importlib.util
import sys
from pathlib import Path

PACKAGE = "msr-cache"


def load_components():  # type: ignore[no-untyped-def]
    """This folder as a package, whatever it is called on disk: Pulumi runs it as a script, and
    its modules import each other relatively."""
    here = Path(__file__).resolve().parent
    spec = importlib.util.spec_from_file_location(
        "msr_cache_components", here / "__init__.py", submodule_search_locations=[str(here)]
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


if __name__ == "__main__":
    from pulumi.provider.experimental import component_provider_host

    components = load_components()
    component_provider_host(
        components=[components.MsrCache], name=PACKAGE, version=components.__version__
    )
