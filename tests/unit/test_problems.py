"""How a mistake is reported: each input named as its caller wrote it, no secret ever shown."""

from __future__ import annotations

from collections.abc import Mapping

import pulumi
import pytest
from harness import (
    BASE,
    CERT,
    GARBAGE_KEY,
    KEY,
    OTHER_KEY,
    refused,
    with_changes,
)

from components.inputs.problems import MISSING, Caller, ConfigError, Problem, set_caller, shape
from components.inputs.settings import parse, resolved

# These cases are written as stack config, so errors spell keys as msr-cache:<key>.
pytestmark = pytest.mark.usefixtures("stack_spelling")


def test_config_error_is_shown_without_a_trace() -> None:
    assert issubclass(ConfigError, pulumi.RunError)
    assert isinstance(refused(with_changes({"port": 0})), pulumi.RunError)


def test_problem_says_what_was_given_and_what_is_accepted() -> None:
    problem = Problem("port", 0, "an integer port")
    assert str(problem) == "msr-cache:port: got 0; expected an integer port"


@pytest.mark.parametrize("key_text", [GARBAGE_KEY, OTHER_KEY], ids=["malformed", "not-of-cert"])
def test_private_key_is_never_printed(key_text: str, pki: Mapping[str, str]) -> None:
    key_text = pki.get(key_text, key_text)
    err = refused({**BASE, "tlsCert": pki[CERT], "tlsKey": key_text})
    message = str(err)
    assert err.keys == ("tlsKey",)
    assert "<secret>" in message
    for line in key_text.splitlines():
        assert line not in message
    assert key_text.splitlines()[1][:12] not in message


def test_long_values_are_truncated() -> None:
    host = "a" * 300
    err = refused(with_changes({"hosts": [host]}))
    (line,) = [line for line in str(err).splitlines() if "msr-cache:hosts" in line]
    assert "a" * 100 not in line
    assert "..." in line
    given = line.split("got ", 1)[1].split("; expected", 1)[0]
    assert len(given) == 80


def test_resolved_key_is_never_printed() -> None:
    with pytest.raises(ConfigError) as caught:
        resolved("tlsKey", GARBAGE_KEY)
    assert "<secret>" in str(caught.value)
    assert GARBAGE_KEY.splitlines()[1] not in str(caught.value)


@pytest.mark.parametrize(
    ("caller", "line"),
    [
        (Caller.STACK, '  - msr-cache:blobTtl: got "10"; expected'),
        (Caller.PYTHON, '  - blob_ttl: got "10"; expected'),
        (Caller.PACKAGE, '  - blobTtl: got "10"; expected'),
    ],
)
def test_errors_name_each_input_as_its_caller_wrote_it(caller: Caller, line: str) -> None:
    set_caller(caller)
    assert line in str(refused({**BASE, "blobTtl": "10"}))


@pytest.mark.parametrize(
    ("caller", "typo", "message"),
    [
        (Caller.STACK, "blobTTL", "msr-cache:blobTTL: unknown key; did you mean blobTtl?"),
        (Caller.STACK, "replica", "msr-cache:replica: unknown key; did you mean replicas?"),
        (Caller.PYTHON, "blob_ttll", "blob_ttll: unknown key; did you mean blob_ttl?"),
        (Caller.PYTHON, "storagesize", "storagesize: unknown key; did you mean storage_size?"),
    ],
)
def test_an_unknown_key_names_the_closest_known_one(
    caller: Caller, typo: str, message: str
) -> None:
    set_caller(caller)
    err = refused({**BASE, typo: "1h"})
    assert err.keys == (typo,)
    assert f"  - {message}" in str(err)


def test_an_unknown_key_unlike_any_lists_the_known_ones() -> None:
    err = refused({**BASE, "zzzzzz": 1})
    assert "msr-cache:zzzzzz: unknown key; expected one of " in str(err)
    assert "blobTtl" in str(err)


def test_an_upstream_with_a_password_is_refused_without_showing_it() -> None:
    err = refused({**BASE, "upstreams": ["https://admin:s3cr3t-pass@msr.example.com"]})
    assert err.keys == ("upstreams",)
    assert "s3cr3t-pass" not in str(err) and "admin" not in str(err)


@pytest.mark.parametrize("name", ["secretKey", "SECRETKEY", "AccessKey"])
def test_storage_credentials_are_matched_in_any_case_and_never_shown(name: str) -> None:
    storage = {"driver": "s3", "bucket": "b", "region": "eu-west-1", name: "s3cr3t-value"}
    s = parse({**BASE, "objectStorage": storage})
    assert s.object_storage is not None
    assert s.object_storage.credentials == {name.lower(): "s3cr3t-value"}
    assert "s3cr3t-value" not in str(s.object_storage.config())
    err = refused({**BASE, "objectStorage": {**storage, "bogus": 1}})
    assert "s3cr3t-value" not in str(err)


@pytest.mark.parametrize(
    "name",
    [
        "REGISTRY_HTTP_SECRET",
        "REGISTRY_STORAGE_S3_SECRETKEY",
        "REGISTRY_STORAGE_AZURE_ACCOUNTKEY",
        "REGISTRY_HTTP_ADDR",
        "REGISTRY_HTTP_TLS_KEY",
        "REGISTRY_HTTP_TLS",
        "REGISTRY_HTTP_HOST",
        "REGISTRY_STORAGE_DELETE_ENABLED",
        "REGISTRY_MIDDLEWARE_REGISTRY",
        "REGISTRY_LOG_LEVEL",
    ],
)
def test_extra_env_refuses_what_the_component_sets_without_showing_values(name: str) -> None:
    err = refused({**BASE, "extraEnv": {name: "value-never-shown", "OTHER": "x"}})
    assert err.keys == ("extraEnv",)
    assert name in str(err)
    assert "value-never-shown" not in str(err)


def test_a_private_key_pasted_as_a_certificate_is_named_and_not_shown(
    pki: Mapping[str, str],
) -> None:
    err = refused({**BASE, "upstreamCaCert": pki[KEY]})
    assert err.keys == ("upstreamCaCert",)
    assert "private key" in str(err)
    body = pki[KEY].splitlines()[1]
    assert body[:16] not in str(err)


# No value is ever printed under extraEnv, objectStorage or the PEM inputs, whatever its shape:
# the error says what was given (a list, an object with these keys, PEM text of such blocks).
SECRET = "Zk8s3cr3tQ"
PEM_WITH_SECRET = f"-----BEGIN CERTIFICATE-----\n{SECRET}\n-----END CERTIFICATE-----\n"


@pytest.mark.parametrize(("key", "value", "shown"), [
    ("extraEnv", [f"AWS_SECRET_ACCESS_KEY={SECRET}"], "a list of 1 item"),
    ("extraEnv", f"AWS_SECRET_ACCESS_KEY={SECRET}", "a string of 32 characters"),
    ("extraEnv", {"AWS_SECRET_ACCESS_KEY": [SECRET]}, "an object with keys AWS_SECRET_ACCESS_KEY"),
    ("extraEnv", {f"TOKEN={SECRET}": "x"}, "an object with keys <a key>"),
    ("objectStorage", [{"driver": "s3", "secretkey": SECRET}], "a list of 1 item"),
    ("objectStorage", {"driver": "s3", "bucket": "b", "region": "r", "secretkee": SECRET},
     "an object with keys bucket, driver, region, secretkee"),
    ("objectStorage", {"driver": "s3", "bucket": "b", "region": "r", "accesskey": "a",
                       f"x{SECRET}/+=": SECRET}, "an object with keys <a key>, accesskey"),
    ("objectStorage", {"driver": "s4", "secretkey": SECRET}, "an object with keys driver"),
    ("objectStorage", {"driver": "s3", "bucket": "b", "region": "r",
                       "regionendpoint": f"https://AKIA:{SECRET}@s3.example.com"},
     "an object with keys bucket, driver, region, regionendpoint"),
    ("upstreamCaCert", PEM_WITH_SECRET, "PEM text with 1 block (CERTIFICATE)"),
    ("tlsCaCert", SECRET, "a string of 10 characters"),
    ("tlsCert", {"pem": SECRET}, "an object with keys pem"),
])  # fmt: skip
def test_a_value_that_may_hold_a_secret_is_shown_by_its_shape(
    key: str, value: object, shown: str, pki: Mapping[str, str]
) -> None:
    changes = {key: value, **({"tlsCert": pki[CERT], "tlsKey": pki[KEY]} if key == "tlsCaCert"
                             else {"tlsKey": pki[KEY]} if key == "tlsCert" else {})}  # fmt: skip
    err = refused({**BASE, **changes})
    assert f"msr-cache:{key}: got {shown}" in str(err)
    assert SECRET not in str(err) and SECRET[:5] not in str(err)


@pytest.mark.parametrize("upstream", [
    f"admin:{SECRET}@msr.example.com",  # no scheme
    f"https://admin:{SECRET}/x@msr.example.com",  # a / in the password
    f"https://admin:pa{SECRET}",  # no host: Go reads the password as a port
    f"//admin:{SECRET}@msr.example.com",
])  # fmt: skip
def test_url_userinfo_is_never_shown_whatever_the_url(upstream: str) -> None:
    err = refused({**BASE, "upstreams": [upstream]})
    assert err.keys == ("upstreams",)
    assert SECRET not in str(err) and SECRET[:5] not in str(err)


@pytest.mark.parametrize(
    ("given", "shown"),
    [
        (None, "null"),
        (True, "true"),
        (False, "false"),
        (30443, "30443"),
        (1.5, "1.5"),
        ("10", '"10"'),
        ("tab\there", '"tab\\there"'),
        (["a", None], '["a", null]'),
        ({"kind": "Issuer", "enabled": True}, '{"kind": "Issuer", "enabled": true}'),
        (shape("s3cr3t"), "a string of 6 characters"),
    ],
)
def test_a_given_value_is_shown_as_yaml_says_it(given: object, shown: str) -> None:
    """Users write YAML (or the package's JSON): null and true, not Python's None and True."""
    set_caller(Caller.STACK)
    assert str(Problem("port", given, "x")) == f"msr-cache:port: got {shown}; expected x"


def test_a_rule_on_a_boolean_says_true() -> None:
    set_caller(Caller.STACK)
    err = refused({**BASE, "namespace": "default", "createNamespace": True})
    assert "  - msr-cache:createNamespace: got true; expected false with namespace default" in str(
        err
    )


def test_an_input_not_given_is_missing() -> None:
    set_caller(Caller.STACK)
    assert str(Problem("tlsKey", MISSING, "x")) == "msr-cache:tlsKey: missing; expected x"
