"""The examples in examples/: real programs, run as tests."""

import json
from typing import Any

import pytest
import yaml
from cryptography import x509
from harness import ROOT, Deployment, run_program

from components.inputs.problems import ConfigError
from components.inputs.settings import parse

FLEET = ROOT / "examples" / "fleet"
TOKEN = "msr-cache:index:MsrCache"


def run_fleet(config: dict[str, Any], errors: list | None = None) -> Deployment:
    """examples/fleet/__main__.py as `pulumi up` runs it, with `config` as its stack's values."""
    return run_program(
        FLEET / "__main__.py", "msr-cache-fleet", config, stack="example", errors=errors
    )


def example_config() -> dict[str, Any]:
    stack = yaml.safe_load((FLEET / "Pulumi.example.yaml").read_text())["config"]
    return {k.removeprefix("msr-cache-fleet:"): v for k, v in stack.items()}


@pytest.fixture(scope="module")
def fleet() -> Deployment:
    return run_fleet(example_config())


def named(d: Deployment, name: str) -> dict[str, Any]:
    return next(r.inputs for r in d.resources if r.name == name)


def registry_config(d: Deployment, cache: str) -> dict[str, Any]:
    return yaml.safe_load(named(d, f"{cache}-config")["data"]["config.yaml"])


def test_central_cache_pulls_from_msr_through_an_ingress(fleet):
    options = registry_config(fleet, "central")["middleware"]["registry"][0]["options"]
    assert options["upstreams"] == ["https://msr.example.com"]
    assert "cas" not in options
    assert named(fleet, "central-ingress")["spec"]["rules"][0]["host"] == "cache.example.com"
    assert fleet.outputs["centralUrl"].value == "https://cache.example.com"


@pytest.mark.parametrize("region", ["asia", "eu"])
def test_regions_chain_to_the_central_cache_and_trust_its_ca(fleet, region):
    config = registry_config(fleet, region)
    options = config["middleware"]["registry"][0]["options"]
    assert options["upstreams"] == [fleet.outputs["centralUrl"].value]
    assert options["cas"] == ["/certs/msr.cert.pem"]
    secret = named(fleet, f"{region}-certs")["stringData"]
    assert secret["msr.cert.pem"] == fleet.outputs["centralCaCertPem"].value
    cert = x509.load_pem_x509_certificate(secret["cache.cert.pem"].encode())
    sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    hosts = next(r["hosts"] for r in example_config()["regions"] if r["name"] == region)
    assert set(hosts) <= set(sans.get_values_for_type(x509.DNSName))
    url = f"https://{hosts[0]}:30443"
    assert config["http"]["host"] == fleet.outputs[f"{region}Url"].value == url
    assert json.loads(fleet.outputs[f"{region}Registration"].value) == {"name": region, "host": url}


def test_each_cache_has_its_own_cluster_and_namespace(fleet):
    contexts = {r.name: r.inputs["context"] for r in fleet.all("pulumi:providers:kubernetes")}
    assert contexts == {
        "central-k8s": "central-cluster",
        "asia-k8s": "asia-cluster",
        "eu-k8s": "eu-cluster",
    }
    for r in fleet.resources:
        if r.typ.startswith("kubernetes:") and r.typ != "kubernetes:core/v1:Namespace":
            cache = r.name.split("-")[0]
            assert f"::{cache}-k8s::" in r.provider, r.name
            assert r.inputs["metadata"]["namespace"] == f"msr-cache-{cache}", r.name


@pytest.mark.parametrize(
    ("regions", "key"),
    [
        ([], "regions"),
        ([{"name": "asia", "context": "asia"}], "regions[0]"),
        (
            [{"name": "Asia", "context": "a", "hosts": ["n.example.com"], "port": 30443}],
            "regions[0].name",
        ),
        (
            [{"name": "asia", "context": "a", "hosts": ["n.example.com"], "port": "30443"}],
            "regions[0].port",
        ),
        (
            [{"name": "central", "context": "a", "hosts": ["n.example.com"], "port": 30443}],
            "regions",
        ),
    ],
    ids=["empty", "missing-keys", "bad-name", "port-text", "named-central"],
)
def test_fleet_config_mistakes_are_named(regions, key):
    errors: list[ConfigError] = []
    d = run_fleet({**example_config(), "regions": regions}, errors=errors)
    (err,) = errors
    assert key in err.keys and f"msr-cache-fleet:{key}:" in str(err)
    assert d.resources == []


def yaml_program() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "examples" / "yaml" / "Pulumi.yaml").read_text())


def check_value(value: Any, prop: dict[str, Any], schema: dict[str, Any], path: str) -> None:
    """`value` fits the schema property `prop` (a `${...}` expression fits any string)."""
    if "$ref" in prop:
        declared = schema["types"][prop["$ref"].removeprefix("#/types/")]
        if "enum" in declared:
            assert value in [v["value"] for v in declared["enum"]], path
            return
        assert isinstance(value, dict), path
        for key, item in value.items():
            assert key in declared["properties"], f"{path}.{key} is not in the schema"
            check_value(item, declared["properties"][key], schema, f"{path}.{key}")
        return
    kind = prop["type"]
    if kind == "array":
        assert isinstance(value, list), path
        for i, item in enumerate(value):
            check_value(item, prop["items"], schema, f"{path}[{i}]")
    elif kind == "object":
        assert isinstance(value, dict), path
        for key, item in value.items():
            check_value(item, prop["additionalProperties"], schema, f"{path}.{key}")
    else:
        python = {"string": str, "integer": int, "boolean": bool, "number": (int, float)}[kind]
        assert isinstance(value, python) and not (kind == "integer" and isinstance(value, bool)), (
            path
        )


def test_yaml_program_uses_the_package_as_the_schema_says(schema):
    program = yaml_program()
    assert program["packages"]["msr-cache"] == "../../components"
    assert (
        ROOT / "examples" / "yaml" / program["packages"]["msr-cache"] / "PulumiPlugin.yaml"
    ).exists()
    component = schema["resources"][TOKEN]
    caches = {k: r for k, r in program["resources"].items() if r["type"] == TOKEN}
    assert caches
    for name, resource in caches.items():
        properties = resource["properties"]
        assert set(component["requiredInputs"]) <= set(properties)
        for key, value in properties.items():
            assert key in component["inputProperties"], f"{name}.{key} is not an input of MsrCache"
            check_value(value, component["inputProperties"][key], schema, f"{name}.{key}")
    for output in program["outputs"].values():
        resource, attribute = output.removeprefix("${").removesuffix("}").split(".")
        assert resource in caches and attribute in component["properties"], output


def test_yaml_program_passes_the_components_checks():
    program = yaml_program()
    defaults = {k: v["default"] for k, v in program["config"].items()}

    def resolved(value: Any) -> Any:  # ${key} of a config default, as Pulumi YAML would
        if isinstance(value, str) and value.startswith("${") and value[2:-1] in defaults:
            return defaults[value[2:-1]]
        if isinstance(value, list):
            return [resolved(v) for v in value]
        return value

    for resource in program["resources"].values():
        parse({k: resolved(v) for k, v in resource["properties"].items()})
