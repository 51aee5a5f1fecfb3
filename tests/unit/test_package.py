"""The component package (components/__main__.py), started as the Pulumi engine starts it: the
schema other languages see, inferred from MsrCache's annotations and docstrings; and Construct,
called over gRPC as the engine calls it, where a bad input reaches the user as one message naming
the schema's (camelCase) inputs, without a traceback.

The engine prints a Construct's INVALID_ARGUMENT status as "<type> resource '<name>' has a
problem: <message>", then "- property <path> with value '<value>' has a problem: <reason>" for
each property error in its details (pkg/resource/deploy/source_eval.go, errorToMessage).
No engine runs here: MsrCache checks its inputs before it registers anything.
"""

import re
import tomllib
from typing import Any

import grpc
import pytest
from google.protobuf import struct_pb2
from harness import ROOT
from pulumi.runtime.proto import errors_pb2, provider_pb2, status_pb2
from setuptools.config.pyprojecttoml import read_configuration

import components
from components.inputs.model import AccessMode, Exposure, KeyAlgorithm, LogLevel
from components.inputs.settings import CONFIG_KEYS

TOKEN = "msr-cache:index:MsrCache"
VALID = {"upstreams": ["https://msr.example.com"], "hosts": ["cache.example.com"], "port": 30443}


def construct(package_provider, inputs: dict[str, Any]) -> grpc.RpcError:
    """The error of constructing an MsrCache from `inputs`, as the engine asks for one."""
    struct = struct_pb2.Struct()
    struct.update(inputs)
    request = provider_pb2.ConstructRequest(
        project="app", stack="dev", type=TOKEN, name="asia", inputs=struct, dryRun=True
    )
    with pytest.raises(grpc.RpcError) as caught:
        package_provider.Construct(request, timeout=60)
    return caught.value


def property_errors(error: grpc.RpcError) -> list[tuple[str, str]]:
    """The (path, reason) pairs the engine prints one a line, with each property's value."""
    for key, value in error.trailing_metadata() or ():
        if key == "grpc-status-details-bin":
            status = status_pb2.Status.FromString(value)
            for detail in status.details:
                errors = errors_pb2.InputPropertiesError()
                if detail.Unpack(errors):
                    return [(e.property_path, e.reason) for e in errors.errors]
    return []


def assert_clean(message: str) -> None:
    for python in ("Traceback", 'File "', ".py", "Unexpected <class", "<class "):
        assert python not in message, message


def test_bad_inputs_are_one_message_naming_every_input_in_camel_case(package_provider):
    error = construct(package_provider, {**VALID, "blobTtl": "5", "exposure": "sideways"})
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    message = error.details()
    assert message.startswith("invalid configuration:\n"), message
    assert '  - blobTtl: got "5"; expected a positive Go duration' in message
    # The SDK would refuse a bad enum value alone, before MsrCache lists every problem.
    assert '  - exposure: got "sideways"; expected one of nodePort, hostPort' in message
    assert "blob_ttl" not in message and "msr-cache:blobTtl" not in message
    assert "port" not in message  # 30443 arrives as 30443.0 and is an integer again
    assert_clean(message)
    # The message is all the engine prints: no property errors, whose values it would print.
    assert property_errors(error) == []


def test_a_bad_integer_is_named_not_truncated(package_provider):
    message = construct(package_provider, {**VALID, "replicas": 1.5}).details()
    assert "  - replicas: got 1.5; expected an integer" in message
    assert_clean(message)


def test_a_bad_key_is_not_echoed(package_provider):
    key = "-----BEGIN PRIVATE KEY-----\nc2VjcmV0\n-----END PRIVATE KEY-----\n"
    error = construct(package_provider, {**VALID, "tlsKey": key})
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "tlsKey" in error.details()
    assert "c2VjcmV0" not in error.details()
    assert_clean(error.details())


def test_a_missing_upstreams_is_the_sdks_property_error(package_provider):
    inputs = {k: v for k, v in VALID.items() if k != "upstreams"}
    error = construct(package_provider, inputs)
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert property_errors(error) == [
        ("upstreams", "Missing required input 'upstreams' on 'MsrCache'")
    ]


def test_valid_inputs_get_past_validation(package_provider):
    # Past its checks, MsrCache registers itself with the engine, which is not there.
    error = construct(package_provider, {**VALID, "exposure": "hostPort", "port": 8443.0})
    assert error.code() != grpc.StatusCode.INVALID_ARGUMENT
    assert "invalid configuration" not in error.details()
    assert "127.0.0.1:1" in error.details(), error.details()


def test_gateway_mistakes_are_named_as_the_schema_names_them(package_provider):
    gateway = {**VALID, "exposure": "gateway", "gatewayClassName": "eg",
               "gateway": {"name": "shared", "namespace": "infra", "sectionName": "TLS"}}  # fmt: skip
    message = construct(package_provider, gateway).details()
    assert "  - port: got 30443; expected port only with an exposure" in message
    assert "; its sectionName must be a DNS-1123 subdomain" in message
    assert '  - gatewayClassName: got "eg"; expected no gatewayClassName with gateway' in message
    assert "gateway_class_name" not in message and "section_name" not in message
    assert_clean(message)


def test_a_gateway_reaches_the_component_through_the_schema(package_provider):
    # sectionName arrives as MsrCacheArgs' section_name, and passes the same checks.
    inputs = {k: v for k, v in VALID.items() if k != "port"}
    for gateway in ({"gateway": {"name": "shared", "namespace": "infra", "sectionName": "tls"}},
                    {"gatewayClassName": "eg", "port": 8443.0}):  # fmt: skip
        error = construct(package_provider, {**inputs, "exposure": "gateway", **gateway})
        assert "invalid configuration" not in error.details(), error.details()
        assert "127.0.0.1:1" in error.details(), error.details()


def test_package_is_named_and_versioned(schema):
    assert schema["name"] == "msr-cache"
    assert schema["version"] == components.__version__


def test_the_version_has_one_place_that_the_others_follow():
    """components.__version__ is the version: the wheel pip builds reads it (statically, as the
    build does), PulumiPlugin.yaml names it, and CHANGELOG.md has a section for it."""
    version = components.__version__
    assert re.fullmatch(r"\d+\.\d+\.\d+", version), version
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert "version" not in project and "version" in project["dynamic"]
    built = read_configuration(ROOT / "pyproject.toml")["project"]["version"]
    assert built == version
    plugin = (ROOT / "components" / "PulumiPlugin.yaml").read_text()
    assert re.findall(r"^# Version (\S+?):", plugin, re.M) == [version]
    assert set(re.findall(r"@v(\d\S*)$", plugin, re.M)) == {version}
    changelog = (ROOT / "CHANGELOG.md").read_text()
    assert f"\n## [{version}]" in changelog, f"CHANGELOG.md has no section for {version}"


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
    gateway = schema["types"][inputs["gateway"]["$ref"].removeprefix("#/types/")]
    assert set(gateway["properties"]) == {"name", "namespace", "sectionName"}
    assert gateway["required"] == ["name", "namespace"]
    assert inputs["gatewayClassName"]["type"] == "string"


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
    assert set(outputs) == {"url", "caCertPem", "namespace", "serviceName", "registration",
                            "certExpiresAt", "caExpiresAt", "certSans"}  # fmt: skip
    assert sorted(resource["required"]) == sorted(outputs)
    for key, prop in outputs.items():
        assert prop["description"], key
        typed = prop["items"] if key == "certSans" else prop
        assert typed["type"] == "string", key


def test_schema_matches_the_reviewed_snapshot(schema, snapshot):
    # Any change to what other languages see shows in review as a diff of tests/unit/__snapshots__/.
    assert schema == snapshot
