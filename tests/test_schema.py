"""The component package: the plugin boots from components/ and serves the schema that other
languages see, inferred from MsrCache's annotations and docstrings."""

import tomllib

from conftest import ROOT

import components
from components.model import AccessMode, Exposure, KeyAlgorithm, LogLevel
from components.settings import CONFIG_KEYS

TOKEN = "msr-cache:index:MsrCache"


def test_package_is_named_and_versioned(schema):
    assert schema["name"] == "msr-cache"
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert schema["version"] == components.__version__ == project["version"]


def test_every_input_is_typed_described_and_only_upstreams_required(schema):
    resource = schema["resources"][TOKEN]
    assert resource["isComponent"] is True
    inputs = resource["inputProperties"]
    assert set(inputs) == set(CONFIG_KEYS.values())
    assert resource["requiredInputs"] == ["upstreams"]
    for key, prop in inputs.items():
        assert prop.get("description"), key
        assert "type" in prop or "$ref" in prop, key
    assert (
        inputs["upstreams"]["type"] == "array" and inputs["upstreams"]["items"]["type"] == "string"
    )
    assert inputs["hosts"]["type"] == "array"
    assert inputs["port"]["type"] == inputs["replicas"]["type"] == "integer"
    assert inputs["createNamespace"]["type"] == "boolean"
    assert inputs["resources"]["$ref"] == "#/types/msr-cache:index:ContainerResources"


def test_enumerations_are_enums(schema):
    inputs = schema["resources"][TOKEN]["inputProperties"]
    for key, enum in [
        ("exposure", Exposure),
        ("logLevel", LogLevel),
        ("tlsKeyAlgorithm", KeyAlgorithm),
        ("storageAccessMode", AccessMode),
    ]:
        ref = inputs[key]["$ref"].removeprefix("#/types/")
        assert [v["value"] for v in schema["types"][ref]["enum"]] == [m.value for m in enum]


def test_resources_are_a_described_object(schema):
    types = schema["types"]
    container = types["msr-cache:index:ContainerResources"]["properties"]
    assert set(container) == {"requests", "limits"}
    amounts = types["msr-cache:index:ResourceAmounts"]["properties"]
    assert set(amounts) == {"cpu", "memory", "ephemeralStorage"}
    assert all(p.get("description") for p in [*container.values(), *amounts.values()])


def test_every_output_is_typed_and_described(schema):
    resource = schema["resources"][TOKEN]
    outputs = resource["properties"]
    assert set(outputs) == {"url", "caCertPem", "namespace", "serviceName", "registration"}
    assert sorted(resource["required"]) == sorted(outputs)
    for key, prop in outputs.items():
        assert prop["type"] == "string" and prop["description"], key


def test_schema_matches_the_reviewed_snapshot(schema, snapshot):
    # Any change to what other languages see shows in review as a diff of tests/__snapshots__/.
    assert schema == snapshot
