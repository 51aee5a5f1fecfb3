"""The component package's entry point: Pulumi runs `python <this folder>` to host MsrCache.

The schema other languages see is inferred from MsrCache's annotations and docstrings.
"""

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from pulumi import Input, Inputs
from pulumi.errors import InputPropertiesError
from pulumi.provider import ConstructResult, main
from pulumi.provider.experimental.analyzer import (
    PropertyDefinition,
    PropertyType,
    TypeDefinition,
)
from pulumi.provider.experimental.component import ComponentProvider
from pulumi.provider.server import ComponentInitError
from pulumi.resource import ResourceOptions

PACKAGE = "msr-cache"


def load_components() -> ModuleType:
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


class Provider(ComponentProvider):
    """The SDK's provider for MsrCache (same inferred schema), except that a bad input reaches
    the user as one message, listing every problem, instead of a Python traceback."""

    def __init__(self, components: ModuleType) -> None:
        super().__init__([components.MsrCache], name=PACKAGE, version=components.__version__)
        self._config_error: type[Exception] = components.ConfigError

    def construct(
        self,
        name: str,
        resource_type: str,
        inputs: Inputs,
        options: ResourceOptions | None = None,
    ) -> ConstructResult:
        try:
            return super().construct(name, resource_type, inputs, options)
        except ComponentInitError as error:
            # The SDK sends whatever __init__ raises with its Python stack, but an
            # InputPropertiesError as a status (INVALID_ARGUMENT) whose message the engine prints
            # alone: "<type> resource '<name>' has a problem: <message>". Its property details
            # stay empty: the engine would print each property's value, a tlsKey's too (the
            # message redacts it); and None breaks the SDK (pulumi 3.272 reads a status's
            # trailing_metadata that it sets only for a list).
            if isinstance(error.inner, self._config_error):
                raise InputPropertiesError(str(error.inner), []) from None
            raise

    def get_type_definition(self, prop: PropertyDefinition) -> TypeDefinition | None:
        # Enum inputs reach MsrCache as the strings given: the SDK would reject a bad one alone,
        # before MsrCache lists it, with every other problem, and the values it accepts.
        type_def = super().get_type_definition(prop)
        return None if type_def is not None and type_def.enum else type_def

    def map_input_properties(
        self,
        inputs: Inputs,
        properties: dict[str, PropertyDefinition],
        mapping: dict[str, str],
        component_name: str,
        property_path: str,
    ) -> Inputs:
        # The SDK's result is a dict it has just made, typed as a read-only Mapping: a copy.
        mapped: dict[str, Input[Any]] = dict(
            super().map_input_properties(inputs, properties, mapping, component_name, property_path)
        )
        # Numbers arrive as floats; pulumi 3.272 makes an integer input an int, then overwrites
        # it with the float (no `continue`), and `port: 30443` would be refused as 30443.0.
        for schema_name, prop in properties.items():
            value = mapped.get(mapping[schema_name])
            if (
                prop.type == PropertyType.INTEGER
                and isinstance(value, float)
                and value.is_integer()
            ):
                mapped[mapping[schema_name]] = int(value)
        return mapped


if __name__ == "__main__":
    components = load_components()
    components.inputs.problems.set_caller(components.inputs.problems.Caller.PACKAGE)
    main(Provider(components), sys.argv[1:])
