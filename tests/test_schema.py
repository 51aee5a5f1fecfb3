"""The schema Pulumi infers from MsrCache's annotations (what other languages will see)."""

from pulumi.provider.experimental.analyzer import Analyzer

from components import MsrCache
from components.settings import CONFIG_KEYS


def test_schema_is_inferred_from_the_annotations():
    result = Analyzer("msr-cache").analyze([MsrCache])
    component = result["component_definitions"]["MsrCache"]
    assert set(component.inputs) == set(CONFIG_KEYS.values())
    assert [k for k, p in component.inputs.items() if not p.optional] == ["upstreams"]
    assert all(p.description for p in component.inputs.values())
    assert set(component.outputs) == {
        "url",
        "caCertPem",
        "namespace",
        "serviceName",
        "registration",
    }
    enums = {name for name, t in result["type_definitions"].items() if t.enum}
    assert enums == {"Exposure", "LogLevel", "KeyAlgorithm", "AccessMode"}
