"""The stack program (__main__.py) and its config declarations (Pulumi.yaml, Pulumi.dev.yaml)."""

from __future__ import annotations

import json
import signal

import pulumi
import pytest
import yaml
from harness import (
    MSR,
    NETWORK_POLICY,
    NODE_PORT,
    PDB,
    ROOT,
    S3,
    container,
    named,
    run_program,
    run_stack,
)
from harness import SECRET as SECRET_TYPE

from components.inputs.problems import ConfigError
from components.inputs.settings import CONFIG_KEYS
from render.stack_config import self_signed_pair

PROJECT = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())
PROGRAM_KEYS = {"kubeContext", "renderYamlToDirectory", "msrApi"}
# Objects and lists of objects: Pulumi's project config has no type for them.
UNDECLARABLE = {
    "resources", "objectStorage", "certManagerIssuer", "upstreamCaSecret", "nodeSelector",
    "tolerations", "affinity", "extraEnv", "podAnnotations", "gateway",
}  # fmt: skip


BASE = {"upstreams": ["https://msr.example.com"], "hosts": ["cache.example.com"], "port": 30443}


def test_exports_what_users_need():
    d = run_stack({**BASE, "renderYamlToDirectory": "out"}, stack="asia")
    assert set(d.outputs) == {"url", "caCertPem", "namespace", "serviceName", "registration",
                              "certExpiresAt", "caExpiresAt", "certSans"}  # fmt: skip
    assert d.outputs["certSans"].value == [
        "DNS:cache.example.com", "DNS:dtr-cache.dtr.svc", "DNS:dtr-cache.dtr.svc.cluster.local"
    ]  # fmt: skip
    assert d.outputs["url"].value == "https://cache.example.com:30443"
    assert json.loads(d.outputs["registration"].value) == {
        "name": "asia",
        "host": "https://cache.example.com:30443",
    }
    assert d.outputs["caCertPem"].value.startswith("-----BEGIN CERTIFICATE-----")
    assert (d.outputs["namespace"].value, d.outputs["serviceName"].value) == ("dtr", "dtr-cache")


def test_render_stack_writes_manifests_instead_of_deploying():
    d = run_stack({**BASE, "renderYamlToDirectory": "manifests/dev"})
    provider = d.one("pulumi:providers:kubernetes")
    assert provider.inputs["renderYamlToDirectory"] == "manifests/dev"
    assert "context" not in provider.inputs
    assert all(provider.name in r.provider for r in d.resources if r.typ.startswith("kubernetes:"))


def test_other_stacks_deploy_through_a_kubeconfig_context():
    d = run_stack({**BASE, "kubeContext": "prod-eu"})
    provider = d.one("pulumi:providers:kubernetes")
    assert provider.inputs["context"] == "prod-eu"
    assert "renderYamlToDirectory" not in provider.inputs


def test_every_setting_reaches_the_component():
    d = run_stack(
        {
            **BASE,
            "exposure": "hostPort",
            "port": 8443,
            "namespace": "cache",
            "createNamespace": False,
            "name": "edge",
            "blobTtl": "2h",
            "logLevel": "warn",
            "replicas": 2,
            "resources": {"limits": {"memory": "3Gi"}},
            "tlsKeyAlgorithm": "ECDSA",
        }
    )
    deployment = d.one("kubernetes:apps/v1:Deployment").inputs
    assert deployment["metadata"] == {
        **deployment["metadata"],
        "name": "edge",
        "namespace": "cache",
    }
    assert deployment["spec"]["replicas"] == 2
    assert deployment["spec"]["template"]["spec"]["containers"][0]["resources"] == {
        "requests": {"cpu": "100m", "memory": "256Mi"},  # the default section, kept
        "limits": {"memory": "3Gi"},
    }
    config = yaml.safe_load(d.one("kubernetes:core/v1:ConfigMap").inputs["data"]["config.yaml"])
    assert config["log"]["level"] == "warn"
    assert config["middleware"]["registry"][0]["options"]["blobttl"] == "2h"
    assert d.outputs["url"].value == "https://cache.example.com:8443"
    assert not d.all("kubernetes:core/v1:Namespace")
    assert {r.inputs["algorithm"] for r in d.all("tls:index/privateKey:PrivateKey")} == {"ECDSA"}


@pytest.mark.parametrize(
    ("config", "key"),
    [
        ({"hosts": ["cache.example.com"], "port": 30443}, "upstreams"),
        ({**BASE, "port": "https"}, "port"),
        ({**BASE, "hosts": "cache.example.com"}, "hosts"),
        ({**BASE, "blobTtl": "86400"}, "blobTtl"),
        ({**BASE, "replicas": 0}, "replicas"),
        ({**BASE, "renderYamlToDirectory": "out", "kubeContext": "prod"}, "kubeContext"),
        ({"upstreams": [MSR], "hosts": ["cache.example.com"], "exposure": "gateway",
          "gateway": {"name": "shared"}}, "gateway"),
    ],
    ids=[
        "no-upstreams",
        "port-text",
        "hosts-not-a-list",
        "bare-ttl",
        "no-replicas",
        "render-and-context",
        "gateway-without-namespace",
    ],
)  # fmt: skip
def test_config_mistakes_stop_the_program_before_anything_exists(config, key):
    errors: list[ConfigError] = []
    d = run_stack(config, errors=errors)
    (err,) = errors
    assert key in err.keys and f"msr-cache:{key}" in str(err)
    assert isinstance(err, pulumi.RunError)
    assert d.resources == []


def test_preview_of_the_dev_stack_completes():
    dev = yaml.safe_load((ROOT / "Pulumi.dev.yaml").read_text())["config"]
    d = run_stack({k.removeprefix("msr-cache:"): v for k, v in dev.items()}, preview=True)
    assert d.outputs["url"].known and not d.outputs["caCertPem"].known


def test_project_runs_python_in_a_virtualenv_on_a_local_backend():
    assert PROJECT["runtime"] == {
        "name": "python",
        "options": {"toolchain": "pip", "virtualenv": ".venv"},
    }
    assert PROJECT["backend"]["url"].startswith("file://")


def test_dev_stack_needs_no_cluster():
    dev = yaml.safe_load((ROOT / "Pulumi.dev.yaml").read_text())["config"]
    assert dev["msr-cache:renderYamlToDirectory"]
    assert "msr-cache:kubeContext" not in dev
    known = set(CONFIG_KEYS.values()) | PROGRAM_KEYS
    assert {k.removeprefix("msr-cache:") for k in dev} <= known


@pytest.mark.parametrize(
    ("typo", "meant"),
    [("blobTTL", "blobTtl"), ("replica", "replicas"), ("storagesize", "storageSize")],
)
def test_an_unknown_key_stops_the_program_naming_the_closest(typo: str, meant: str):
    errors: list[ConfigError] = []
    d = run_stack({**BASE, typo: "1"}, errors=errors)
    (err,) = errors
    assert f"msr-cache:{typo}: unknown key; did you mean {meant}?" in str(err)
    assert d.resources == []


def test_an_unknown_key_is_reported_with_every_other_problem():
    errors: list[ConfigError] = []
    run_stack({**BASE, "blobTTL": "1h", "blobTtl": "10"}, errors=errors)
    (err,) = errors
    assert err.keys == ("blobTTL", "blobTtl")


def test_a_value_stored_encrypted_is_never_shown():
    password = "hunter2-very-secret"
    errors: list[ConfigError] = []
    config = {**BASE, "upstreams": [f"https://cache:{password}@msr.example.com"]}
    run_program(ROOT / "__main__.py", "msr-cache", config, errors=errors, secret_keys=["upstreams"])
    (err,) = errors
    assert "msr-cache:upstreams: got <secret>;" in str(err)
    assert password not in str(err)


# `pulumi config set --secret --path extraEnv.HTTPS_PROXY <a proxy with a password>`.
PROXY_PASSWORD = "Pr0xy-pa55-7q"
PROXY = f"http://cache:{PROXY_PASSWORD}@proxy.corp.example:3128"


def texts(value: object) -> str:
    """Every string in `value`, as they are (json.dumps would escape a PEM's newlines)."""
    if isinstance(value, dict):
        return "\n".join(texts(v) for v in value.values())
    if isinstance(value, list):
        return "\n".join(texts(v) for v in value)
    return value if isinstance(value, str) else ""


def run_secret(config: dict, secret_keys: list[str], errors: list | None = None, **kw):
    """The stack program with `secret_keys` stored encrypted (listed whole by the CLI, even
    when one field of an object is)."""
    return run_program(ROOT / "__main__.py", "msr-cache", {**BASE, **config}, stack="dev",
                       errors=errors, secret_keys=secret_keys, **kw)  # fmt: skip


@pytest.mark.parametrize("preview", [False, True], ids=["up", "preview"])
def test_an_encrypted_extra_env_reaches_the_pod_only_through_a_secret(preview: bool):
    env = {"HTTPS_PROXY": PROXY, "REGISTRY_LOG_FORMATTER": "json"}
    d = run_secret({"extraEnv": env}, ["extraEnv"], preview=preview)
    kept = named(d, "dev-env")
    # The CLI says only that extraEnv holds an encrypted value: every value of it is kept.
    assert kept.inputs["stringData"] == env and "stringData" in kept.secret_paths
    variables = {e["name"]: e for e in container(d)["env"]}
    for name in env:
        assert variables[name]["valueFrom"]["secretKeyRef"]["key"] == name
        assert "value" not in variables[name]
    elsewhere = [r.inputs for r in d.resources if r is not kept]
    outputs = [o.value for o in d.outputs.values()]
    assert PROXY_PASSWORD not in json.dumps([elsewhere, outputs], default=str)
    policy = d.one(NETWORK_POLICY)
    _, pulls = policy.inputs["spec"]["egress"]
    assert 3128 in [p["port"] for p in pulls["ports"]] and policy.secret_paths == []


def test_a_plain_extra_env_stays_in_the_deployment():
    d = run_stack({**BASE, "extraEnv": {"REGISTRY_LOG_FORMATTER": "json"}})
    assert {"name": "REGISTRY_LOG_FORMATTER", "value": "json"} in container(d)["env"]
    assert [r.name for r in d.all(SECRET_TYPE)] == ["dev-certs"]


SHOWN = "s3cr3t"


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("hosts", [f"{SHOWN}.example.com"]),
        ("upstreams", [f"https://{SHOWN}.example.com"]),
        ("namespace", SHOWN),
        ("image", f"registry.example.com/{SHOWN}/dtr-content-cache:2.9.16"),
        ("podAnnotations", {"example.com/owner": SHOWN}),
        ("kubeContext", SHOWN),
    ],
)
def test_an_encrypted_key_the_program_would_show_is_refused_naming_it(key: str, value: object):
    """Keys the program writes where they are read in the clear (config.yaml, the Deployment,
    a Service, the provider's inputs) cannot be kept secret: encrypted, they are refused."""
    errors: list[ConfigError] = []
    d = run_secret({key: value}, [key], errors=errors)
    (err,) = errors
    assert f"msr-cache:{key}: got <secret>; expected a value set without --secret" in str(err)
    assert SHOWN not in str(err)
    assert d.resources == []


def test_an_encrypted_certificate_makes_what_is_made_from_it_secret(pki):
    from harness import CERT, KEY

    config = {"hosts": ["cache.example.com"], "tlsCert": pki[CERT], "tlsKey": pki[KEY]}
    d = run_secret(config, ["tlsCert", "tlsKey"])
    for output in ("caCertPem", "certSans", "certExpiresAt", "caExpiresAt"):
        assert d.outputs[output].secret, output
    assert pki[CERT] not in texts([r.inputs for r in d.resources if r.typ != SECRET_TYPE])
    assert pki[CERT] in texts(named(d, "dev-certs").inputs)
    # tlsKey alone encrypted, as it must be: the certificate and what is made of it are public.
    d = run_secret(config, ["tlsKey"])
    assert not d.outputs["caCertPem"].secret and d.outputs["caCertPem"].value == pki[CERT]


def test_encrypted_keys_that_go_to_secrets_are_accepted(pki):
    from harness import CERT

    config = {"upstreamCaCert": pki[CERT], "objectStorage": S3, "replicas": 2}
    d = run_secret(config, ["upstreamCaCert", "objectStorage"])
    certs = named(d, "dev-certs")
    assert certs.inputs["stringData"]["msr.cert.pem"] == pki[CERT]
    assert named(d, "dev-storage").inputs["stringData"]["s3-secretkey"] == S3["secretkey"]


def test_a_stack_name_kubernetes_cannot_take_stops_the_program():
    errors: list[ConfigError] = []
    d = run_stack(BASE, stack="Prod_EU", errors=errors)
    (err,) = errors
    assert 'stack name: got "Prod_EU"; expected lowercase' in str(err)
    assert d.resources == []


def test_a_gateway_reaches_the_component_from_stack_config():
    gateway = {"name": "shared", "namespace": "gateway-system", "sectionName": "tls"}
    d = run_stack({"upstreams": [MSR], "hosts": ["cache.example.com"], "exposure": "gateway",
                   "gateway": gateway})  # fmt: skip
    route = d.one("kubernetes:gateway.networking.k8s.io/v1:TLSRoute").inputs
    (parent,) = route["spec"]["parentRefs"]
    assert {k: parent[k] for k in gateway} == gateway
    assert d.outputs["url"].value == "https://cache.example.com"


def test_object_options_reach_the_component_from_stack_config():
    d = run_stack({"upstreams": [MSR], **NODE_PORT, "replicas": 2, "objectStorage": S3, "metrics": True,
                   "extraEnv": {"REGISTRY_LOG_FORMATTER": "json"}, "tolerations": [{"operator": "Exists"}]})  # fmt: skip
    (cache, dashboard) = d.all("kubernetes:core/v1:ConfigMap")  # metrics brings the dashboard
    config = yaml.safe_load(cache.inputs["data"]["config.yaml"])
    assert config["storage"]["s3"]["bucket"] == "msr-cache" and "debug" in config["http"]
    assert d.all(PDB) and d.all(NETWORK_POLICY)
    assert dashboard.inputs["metadata"]["labels"]["grafana_dashboard"] == "1"


def test_the_docs_production_stack_is_valid():

    from components.inputs.settings import parse

    text = (ROOT / "docs" / "deploy.md").read_text()
    section = text[text.index("## Production") :]
    block = section[
        section.index("```yaml\n") + len("```yaml\n") : section.index(
            "```\n", section.index("```yaml")
        )
    ]
    stack = yaml.safe_load(block)["config"]
    raw = {k.removeprefix("msr-cache:"): v for k, v in stack.items()}
    raw["objectStorage"] = {
        **raw["objectStorage"],
        "secretkey": "decrypted",
    }  # as Pulumi decrypts it
    program_keys = {"kubeContext"}
    settings = parse({k: v for k, v in raw.items() if k not in program_keys})
    assert settings.replicas == 3 and settings.object_storage and settings.metrics
    assert settings.cert_manager_issuer and settings.upstream_ca_secret and settings.network_policy


# msrApi: the cache registered with MSR by the MsrRegistration dynamic resource.
REGISTRATION = "pulumi-python:dynamic/msr-cache:MsrRegistration"
MSR_API = {"url": "https://msr.example.com", "username": "admin", "token": "tok-3c9e1f"}


def run_with_api(api: object, secret: bool = True, errors: list | None = None, **config: object):
    return run_program(
        ROOT / "__main__.py", "msr-cache",
        {**BASE, "kubeContext": "asia", "msrApi": api, **config},
        stack="asia", errors=errors, secret_keys=["msrApi"] if secret else [],
    )  # fmt: skip


def test_msr_api_registers_the_cache_under_its_stack_name_and_url():
    d = run_with_api(MSR_API)
    reg = d.one(REGISTRATION)
    assert {k: reg.inputs[k] for k in ("apiUrl", "username", "name", "host")} == {
        "apiUrl": "https://msr.example.com", "username": "admin", "name": "asia",
        "host": "https://cache.example.com:30443",
    }  # fmt: skip
    assert "token" in reg.secret_paths and reg.inputs["token"] == MSR_API["token"]
    assert reg.inputs.get("caCertPem") is None and reg.inputs.get("adopt") is None
    assert d.outputs["msrRegistrationId"].value == "registration-id"


def test_msr_api_trusts_msr_through_its_own_ca_not_upstream_ca_cert(pki):
    from harness import CERT

    other, _ = self_signed_pair("central-cache.example.com")
    d = run_with_api({**MSR_API, "caCert": pki[CERT]}, upstreamCaCert=other)
    assert d.one(REGISTRATION).inputs["caCertPem"] == pki[CERT]
    # A chained cache's upstreamCaCert is the central cache's CA: it says nothing of MSR's API.
    d = run_with_api(MSR_API, upstreamCaCert=other)
    assert d.one(REGISTRATION).inputs.get("caCertPem") is None


def test_msr_api_adopt_asks_to_take_over_a_registration():
    assert run_with_api({**MSR_API, "adopt": True}).one(REGISTRATION).inputs["adopt"] is True


def test_without_msr_api_nothing_is_registered():
    d = run_stack({**BASE, "renderYamlToDirectory": "out"})
    assert d.all(REGISTRATION) == []
    assert "msrRegistrationId" not in d.outputs


@pytest.mark.parametrize(("api", "secret", "message"), [
    ({**MSR_API, "url": "http://msr.example.com"}, True,
     "msr-cache:msrApi.url: got a URL of scheme http; expected MSR's https:// URL"),
    ({**MSR_API, "url": "https://admin:pa55@msr.example.com"}, True,
     "msr-cache:msrApi.url: got a URL of scheme https, with credentials; expected MSR's https:// "
     "URL, https://host[:port], without path (the provider adds /api/v0/content_caches), query or "
     "credentials"),
    ({**MSR_API, "url": "https://msr.example.com/api/v0/content_caches"}, True,
     "msr-cache:msrApi.url: got a URL of scheme https, with a path; expected MSR's https:// URL, "
     "https://host[:port], without path (the provider adds /api/v0/content_caches)"),
    ({"url": "https://msr.example.com", "token": "tok-3c9e1f"}, True,
     "msr-cache:msrApi.username: missing; expected a non-empty string"),
    ({"url": "https://msr.example.com", "username": "admin"}, True,
     "msr-cache:msrApi.token: missing; expected a non-empty string"),
    ({"url": "https://msr.example.com", "username": "admin", "token": None}, True,
     "msr-cache:msrApi.token: missing; expected a non-empty string"),
    ({**MSR_API, "user": "x"}, True,
     "msr-cache:msrApi.user: got a string of 1 character; expected no other field"),
    ({**MSR_API, "caCert": "not a certificate"}, True,
     "msr-cache:msrApi.caCert: got a string of 17 characters; expected PEM text of the CA"),
    ({**MSR_API, "adopt": "yes"}, True,
     "msr-cache:msrApi.adopt: got a string of 3 characters; expected true or false"),
    (MSR_API, False, "msr-cache:msrApi.token: got a string of 10 characters; expected a secret: "
                     "pulumi config set --secret"),
    ("https://msr.example.com", True,
     "msr-cache:msrApi: got a string of 23 characters; expected an object {url, username, token, "
     "caCert (optional), adopt (optional)}"),
])  # fmt: skip
def test_a_wrong_msr_api_stops_the_program_before_anything_is_made(api, secret, message):
    errors: list[ConfigError] = []
    d = run_with_api(api, secret=secret, errors=errors)
    assert d.resources == []
    assert message in str(errors[0])
    assert "tok-3c9e1f" not in str(errors[0]) and "pa55" not in str(errors[0])


def test_msr_api_with_a_render_stops_the_program():
    # A render deploys nothing: MSR would list a cache that does not exist.
    errors: list[ConfigError] = []
    d = run_program(ROOT / "__main__.py", "msr-cache",
                    {**BASE, "renderYamlToDirectory": "out", "msrApi": MSR_API}, errors=errors,
                    secret_keys=["msrApi"])  # fmt: skip
    assert d.resources == []
    assert (
        "msr-cache:msrApi: got an object with keys token, url, username; expected no msrApi "
        "with renderYamlToDirectory" in str(errors[0])
    )


# Whatever shape msrApi has, no part of a value under it is printed.
SECRET = "s3cr3t-Xq9"


@pytest.mark.parametrize("api", [
    [MSR_API["url"], "admin", SECRET],  # a list where an object goes
    f"admin:{SECRET}@msr.example.com",  # a URL without its scheme
    {**MSR_API, "tokne": SECRET},  # a misspelled key
    {**MSR_API, f"admin:{SECRET}": True},  # a value written where a key goes
    {**MSR_API, "token": [SECRET]},
    {**MSR_API, "url": f"admin:{SECRET}@msr.example.com"},
    {**MSR_API, "url": f"https://admin:{SECRET}/x@msr.example.com"},
    {**MSR_API, "url": {"user": "admin", "password": SECRET}},
    {**MSR_API, "username": SECRET, "url": SECRET},
    {**MSR_API, "caCert": f"-----BEGIN CERTIFICATE-----\n{SECRET}\n"},
], ids=["list", "no-scheme", "misspelled", "key", "token-list", "url-no-scheme", "url-slash",
        "url-object", "swapped", "pem"])  # fmt: skip
def test_no_value_under_msr_api_is_ever_printed(api):
    errors: list[ConfigError] = []
    run_with_api(api, errors=errors)
    (err,) = errors
    assert SECRET not in str(err) and SECRET[:6] not in str(err)


def test_adopt_existing_keeps_the_procedures_names_and_takes_over_kubectls_fields():
    d = run_stack({**BASE, "adoptExisting": True})
    # The procedure's names (MSR's manual procedure: Deployment dtr-cache in namespace dtr).
    deployment = d.one("kubernetes:apps/v1:Deployment").inputs
    assert (deployment["metadata"]["namespace"], deployment["metadata"]["name"]) == (
        "dtr",
        "dtr-cache",
    )
    assert d.one("kubernetes:core/v1:Service").inputs["metadata"]["name"] == "dtr-cache"
    assert d.one("kubernetes:core/v1:Namespace").inputs["metadata"]["name"] == "dtr"
    # What kubectl applied has fields of its own field manager: taken over, not a conflict.
    named = [r for r in d.resources if r.typ.startswith("kubernetes:") and "kind" in r.inputs]
    for r in named:
        assert r.inputs["metadata"]["annotations"]["pulumi.com/patchForce"] == "true", r.name


def test_without_adopt_existing_no_field_of_another_manager_is_taken_over():
    d = run_stack(BASE)
    assert "pulumi.com/patchForce" not in json.dumps([r.inputs for r in d.resources])


def test_run_in_process_the_program_leaves_the_callers_sigint_handler():
    # The program ends silently on SIGINT only when the language host runs it (__main__.py,
    # end_silently_on_sigint): run in-process, as the render and these tests run it, Ctrl-C
    # stays the caller's (pytest's teardown, the render's cleanup).
    before = signal.getsignal(signal.SIGINT)
    run_stack({"upstreams": [MSR], "hosts": ["cache.example.com"], "port": 30443})
    assert signal.getsignal(signal.SIGINT) is before
