"""The MSR registration provider against a stand-in of MSR's API (tests/msr_api.py), called
in-process and as the engine calls it: `python -m pulumi.dynamic` over gRPC. How a registration
survives the engine's renames, moves and replacements is tests/unit/test_registration_moves.py."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime
import ipaddress
import socket
import ssl
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import grpc
import pulumi
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from google.protobuf import struct_pb2
from harness import ROOT, plugin_channel
from msr_api import PATH, Elsewhere, MsrApi, Trouble
from pulumi.dynamic.dynamic import serialize_provider
from pulumi.runtime import rpc
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc

from components import registration
from components.registration import MsrRegistrationProvider, RegistrationError, normalised_url
from render.stack_config import self_signed_pair

HOST = "https://cache.asia.example.com:30443"
provider = MsrRegistrationProvider()


@pytest.fixture
def msr() -> Iterator[MsrApi]:
    api = MsrApi()
    yield api
    api.close()


@pytest.fixture(autouse=True)
def no_waits(monkeypatch: pytest.MonkeyPatch) -> None:
    """Retries without their waits (the count of attempts is what is tested)."""
    monkeypatch.setattr(registration, "RETRY_DELAYS", (0.0,) * len(registration.RETRY_DELAYS))
    monkeypatch.setattr(registration, "SETTLE_WAIT", 0.0)


def props(msr: MsrApi, **changes: Any) -> dict[str, Any]:
    return {"apiUrl": msr.url, "username": "admin", "token": msr.state.token,
            "caCertPem": msr.ca_pem, "name": "asia", "host": HOST, **changes}  # fmt: skip


def asked(msr: MsrApi) -> list[str]:
    """What MSR was asked, in order: "list", "read" (one by its id), "post", "delete"."""
    words = {"POST": "post", "DELETE": "delete"}
    return [words.get(s.method, "list" if s.path == PATH else "read") for s in msr.state.seen]


def test_create_registers_the_cache_as_the_admin(msr: MsrApi) -> None:
    created = provider.create(props(msr))
    assert msr.state.caches == {created.id: {"id": created.id, "name": "asia", "host": HOST}}
    [post] = [s for s in msr.state.seen if s.method == "POST"]
    assert (post.path, post.body, post.authorization) == (
        PATH, {"name": "asia", "host": HOST}, msr.state.authorization()
    )  # fmt: skip
    assert created.outs == props(msr)  # the token too: delete needs it (a secret output)


# 1. Identity: one spelling of MSR and of the cache, so a respelling is no change.
@pytest.mark.parametrize(("spelled", "one"), [
    ("https://msr.example.com/", "https://msr.example.com"),
    ("https://msr.example.com:443", "https://msr.example.com"),
    ("HTTPS://MSR.Example.COM:443/", "https://msr.example.com"),
    ("https://msr.example.com:8443/", "https://msr.example.com:8443"),
    ("https://[2001:DB8:0::1]:443", "https://[2001:db8::1]"),
    ("https://10.0.0.1:8443", "https://10.0.0.1:8443"),
])  # fmt: skip
def test_urls_have_one_spelling(spelled: str, one: str) -> None:
    assert normalised_url(spelled) == one


@pytest.mark.parametrize("url", [
    "http://msr.example.com",  # the API is https
    "https://msr.example.com/api/v0/content_caches",  # a path: the provider adds it
    "https://msr.example.com/msr",
    "https://msr.example.com?x=1",
    "https://msr.example.com#top",
    "https://admin:pa55w0rd@msr.example.com",  # credentials belong in username and token
    " https://msr.example.com",  # urllib strips it: what is checked must be what is used
    "https://msr.example.com ",
    "https://msr.exa\tmple.com",  # urllib drops tabs and newlines
    "https://msr.example.com\n",
    "https://msr.example.com:",
    "https://msr.example.com:0",
    "https://msr.example.com:65536",
    "https://msr.example.com:https",
    "https://msr_example.com",
    "https://msr.ex\u00e4mple.com",
    "https://[fe80::1%25en0]",
    "https://",
    "msr.example.com",
])  # fmt: skip
def test_urls_msr_could_not_take_are_refused(url: str) -> None:
    with pytest.raises(ValueError):
        normalised_url(url)


@pytest.mark.parametrize(("key", "respelled"), [
    ("apiUrl", "{url}/"),
    ("apiUrl", "{url}".replace("https", "HTTPS")),
    ("host", "https://Cache.Asia.Example.com:30443/"),
])  # fmt: skip
def test_a_respelling_is_no_change(msr: MsrApi, key: str, respelled: str) -> None:
    olds = provider.check({}, props(msr)).inputs
    news = provider.check(olds, props(msr, **{key: respelled.format(url=msr.url)})).inputs
    assert news[key] == olds[key]  # what the state keeps is the one spelling
    assert provider.diff("cc-1", olds, news).changes is False


def test_a_state_written_before_normalisation_is_no_change(msr: MsrApi) -> None:
    olds = props(msr, apiUrl=msr.url + "/", host=HOST.replace("cache", "CACHE"))
    assert provider.diff("cc-1", olds, provider.check(olds, props(msr)).inputs).changes is False


@pytest.mark.parametrize(("change", "replaces", "first_delete"), [
    ({"name": "asia-2"}, ["name"], False),  # both names may exist at once
    ({"host": "https://other.example.com"}, ["host"], True),
    # Maybe the same MSR by another name (its IP): the old one goes first, or the new would be it.
    ({"apiUrl": "https://msr-2.example.com"}, ["apiUrl"], True),
    ({"token": "rotated"}, [], False),
    ({"caCertPem": None}, [], False),
])  # fmt: skip
def test_diff_replaces_on_name_host_or_msr_and_a_kept_name_goes_first(
    msr: MsrApi, change: dict[str, str], replaces: list[str], first_delete: bool
) -> None:
    diff = provider.diff("cc-1", props(msr), props(msr, **change))
    assert (diff.changes, diff.replaces, diff.delete_before_replace) == (
        True,
        replaces,
        first_delete,
    )
    assert provider.diff("cc-1", props(msr), props(msr)).changes is False


# 2. No silent adoption.
def test_a_registration_msr_already_has_stops_create_naming_its_id_and_host(msr: MsrApi) -> None:
    before = msr.state.add("asia", HOST)
    with pytest.raises(RegistrationError) as raised:
        provider.create(props(msr))
    message = str(raised.value)
    assert f"already has content cache 'asia' (id {before['id']}, host {HOST})" in message
    assert "msrApi.adopt: true" in message and "alias" in message
    assert asked(msr) == ["list", "read"]
    assert msr.state.caches == {before["id"]: before}


def test_adopt_takes_over_the_same_name_and_host(msr: MsrApi) -> None:
    before = msr.state.add("asia", HOST.replace("cache", "CACHE") + "/")
    created = provider.create(props(msr, adopt=True))
    assert created.id == before["id"]
    assert asked(msr) == ["list", "read"]  # the id confirmed alive before it is taken


@pytest.mark.parametrize("adopt", [False, True])
def test_the_same_name_with_another_host_is_refused_naming_both(msr: MsrApi, adopt: bool) -> None:
    msr.state.add("asia", "https://old.example.com")
    with pytest.raises(RegistrationError, match=r"named 'asia' \(id cc-\d+\) with host "
                       r"https://old.example.com, not https://cache.asia.example.com:30443"):  # fmt: skip
        provider.create(props(msr, adopt=adopt))


@pytest.mark.parametrize("adopt", [False, True])
def test_a_registration_a_lagging_list_still_shows_is_neither_adopted_nor_in_the_way(
    msr: MsrApi, adopt: bool
) -> None:
    # Deleted (a replacement that keeps the name deletes first), and still listed by a replica
    # that has not seen the delete: a GET of its id finds nothing, so it is registered anew.
    msr.state.lagging = True
    dead = provider.create(props(msr, adopt=adopt)).id
    provider.delete(dead, props(msr))
    msr.state.seen.clear()
    created = provider.create(props(msr, adopt=adopt))
    assert created.id != dead and list(msr.state.caches) == [created.id]
    assert asked(msr) == ["list", "read", "post"]


def test_a_name_msr_holds_twice_is_taken_by_neither(msr: MsrApi) -> None:
    # This code assumes MSR holds a name once (docs/operate.md); if it did not, nothing is
    # adopted, posted or deleted by guess.
    first, second = msr.state.add("asia", HOST), msr.state.add("asia", HOST)
    with pytest.raises(RegistrationError) as raised:
        provider.create(props(msr, adopt=True))
    assert f"holds 2 content caches named 'asia': {first['id']} " in str(raised.value)
    assert f"{second['id']} (host {HOST})" in str(raised.value)
    assert asked(msr) == ["list", "read", "read"]
    assert len(msr.state.caches) == 2


def test_import_is_refused_saying_why_and_what_to_use_instead() -> None:
    args: registration.MsrRegistrationArgs = {"api_url": "https://msr.example.com",
        "username": "admin", "token": "t", "name": "asia", "host": HOST}  # fmt: skip
    opts = pulumi.ResourceOptions(import_="cc-1")
    with pytest.raises(pulumi.RunError) as raised:
        registration.MsrRegistration("registration", args, opts)
    message = str(raised.value)
    assert "KeyError: '__provider'; pulumi/pulumi#16175" in message and "adopt=True" in message


def test_read_finds_the_registration_and_notices_it_gone(msr: MsrApi) -> None:
    created = provider.create(props(msr))
    assert provider.read(created.id, props(msr)).id == created.id
    msr.state.caches.clear()  # deregistered in MSR's UI
    assert provider.read(created.id, props(msr)).id is None


def test_delete_deregisters_and_tolerates_a_registration_already_gone(msr: MsrApi) -> None:
    created = provider.create(props(msr))
    provider.delete(created.id, props(msr))
    assert msr.state.caches == {}
    provider.delete(created.id, props(msr))  # a 404 is what delete wanted


# 3. Its own trust: msrApi.caCert adds to the system's CAs.
def test_msr_is_trusted_through_the_system_beside_its_ca(
    msr: MsrApi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The system trust store (OpenSSL reads SSL_CERT_FILE) holds MSR's CA; caCertPem is another
    # CA (a chained cache's upstream, say): MSR must still be trusted.
    system = tmp_path / "system-cas.pem"
    system.write_text(msr.ca_pem)
    monkeypatch.setenv("SSL_CERT_FILE", str(system))
    other_ca, _ = self_signed_pair("central-cache.example.com")
    created = provider.create(props(msr, caCertPem=other_ca))
    assert created.id in msr.state.caches


def test_msr_not_trusted_is_refused_naming_its_ca_option(msr: MsrApi) -> None:
    with pytest.raises(RegistrationError, match=r"TLS failed .*msrApi\.caCert"):
        provider.create(props(msr, caCertPem=None))
    assert msr.state.caches == {}


# Go's crypto/x509 is the measure (MSR's clients and the cache are Go): it takes any
# certificate of the trusted pool as an anchor and asks nothing of RFC 5280's strict profile.
# Python 3.13's create_default_context turns on VERIFY_X509_STRICT and VERIFY_X509_PARTIAL_CHAIN
# (CPython gh-107361); this machine runs 3.11, so 3.13's is made here as 3.13 makes it.
DEFAULT_CONTEXT = ssl.create_default_context


def as_python_313(*args: Any, **kwargs: Any) -> ssl.SSLContext:
    """ssl.create_default_context as Python 3.13 makes it."""
    context = DEFAULT_CONTEXT(*args, **kwargs)
    context.verify_flags |= ssl.VERIFY_X509_STRICT | ssl.VERIFY_X509_PARTIAL_CHAIN
    return context


@pytest.fixture(params=["3.11", "3.13"])
def python(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """The default TLS context of this Python, or of Python 3.13."""
    if request.param == "3.13":
        monkeypatch.setattr(ssl, "create_default_context", as_python_313)
    return str(request.param)


def test_the_tls_context_has_the_same_flags_on_every_python(python: str) -> None:
    default = ssl.create_default_context().verify_flags
    assert bool(default & ssl.VERIFY_X509_STRICT) is (python == "3.13")
    flags = registration.tls_context().verify_flags
    assert flags == ssl.VERIFY_X509_TRUSTED_FIRST | ssl.VERIFY_X509_PARTIAL_CHAIN
    assert not flags & ssl.VERIFY_X509_STRICT


Signed = tuple[x509.Certificate, ec.EllipticCurvePrivateKey]


def issue(name: str, by: Signed | None = None, ca: bool = False, key_ids: bool = True) -> Signed:
    """A certificate for `name` (a CA, or a server at 127.0.0.1), signed by `by` or by itself;
    with `key_ids`, the subject and authority key identifiers RFC 5280's strict profile asks."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    issuer, signer = (by[0].subject, by[1]) if by else (subject, key)
    now = datetime.datetime.now(datetime.UTC)
    built = (
        x509.CertificateBuilder().subject_name(subject).issuer_name(issuer)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )  # fmt: skip
    if ca:
        usage = x509.KeyUsage(False, False, False, False, False, True, True, False, False)
        built = built.add_extension(usage, critical=True)
    else:
        san = x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))])
        built = built.add_extension(san, critical=False).add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
    if key_ids:
        ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
        built = built.add_extension(ski, critical=False)
        if by:
            aki = x509.AuthorityKeyIdentifier.from_issuer_public_key(signer.public_key())
            built = built.add_extension(aki, critical=False)
    return built.sign(signer, hashes.SHA256()), key


def pem(*certificates: x509.Certificate) -> str:
    return "".join(c.public_bytes(serialization.Encoding.PEM).decode() for c in certificates)


def key_pem(key: ec.EllipticCurvePrivateKey) -> str:
    encoding, pkcs8 = serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8
    return key.private_bytes(encoding, pkcs8, serialization.NoEncryption()).decode()


def refusal(url: str, ca: str, flags: ssl.VerifyFlags) -> str | None:
    """Why a client with these verify flags, trusting only `ca`, refuses MSR's certificate."""
    context = DEFAULT_CONTEXT(cadata=ca)
    context.verify_flags = flags
    try:
        urllib.request.urlopen(url + PATH, context=context, timeout=10).close()
    except urllib.error.HTTPError:
        return None  # past the handshake (the stand-in wants credentials)
    except urllib.error.URLError as err:
        return str(getattr(err.reason, "verify_message", err.reason))
    return None


def test_a_certificate_strict_mode_refuses_and_go_accepts_is_trusted(python: str) -> None:
    # A server certificate without an authority key identifier: Go never requires one.
    root = issue("MSR CA", ca=True)
    leaf, key = issue("msr", by=root, key_ids=False)
    msr = MsrApi(served=(pem(root[0]), pem(leaf), key_pem(key)))
    try:
        strict = ssl.VERIFY_X509_TRUSTED_FIRST | ssl.VERIFY_X509_STRICT
        assert refusal(msr.url, msr.ca_pem, strict) == "Missing Authority Key Identifier"
        created = provider.create(props(msr))
        assert list(msr.state.caches) == [created.id]
    finally:
        msr.close()


def test_an_intermediate_ca_alone_is_trusted_as_go_trusts_it(python: str) -> None:
    # msrApi.caCert holds the CA that signed MSR's certificate, itself signed by a root it does
    # not hold: Go ends the chain at any certificate it trusts; OpenSSL by default only at a
    # self-signed one.
    root = issue("root", ca=True)
    intermediate = issue("MSR CA", by=root, ca=True)
    leaf, key = issue("msr", by=intermediate)
    msr = MsrApi(served=(pem(intermediate[0]), pem(leaf, intermediate[0]), key_pem(key)))
    try:
        without = refusal(msr.url, msr.ca_pem, ssl.VERIFY_X509_TRUSTED_FIRST)
        assert without == "unable to get issuer certificate"
        created = provider.create(props(msr))
        assert list(msr.state.caches) == [created.id]
    finally:
        msr.close()


# 5. The token goes to MSR's origin and nowhere else: a redirect of a GET within it is
# followed, any other refused (urllib's own handler sends the token wherever it is told).
@pytest.fixture
def elsewhere() -> Iterator[tuple[Elsewhere, Elsewhere]]:
    """Two other origins: plain http, and https with a CA of its own."""
    plain, tls = Elsewhere(), Elsewhere(tls=True)
    yield plain, tls
    plain.close()
    tls.close()


TARGETS = ["another origin over http", "another origin over https, trusted",
           "the same host and port over http", "the same server by another name"]  # fmt: skip


def redirected(msr: MsrApi, method: str, trouble: Trouble, ca: str) -> RegistrationError:
    """The error of a GET, POST or DELETE answered with `trouble`."""
    created = provider.create(props(msr)).id if method == "DELETE" else None
    msr.state.seen.clear()
    msr.state.failures = [trouble] if method != "POST" else [None, trouble]
    with pytest.raises(RegistrationError) as raised:
        if created is not None:
            provider.delete(created, props(msr, caCertPem=ca))
        else:
            provider.create(props(msr, caCertPem=ca))
    return raised.value


@pytest.mark.parametrize("status", [302, 307])
@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("method", ["GET", "POST", "DELETE"])
def test_a_redirect_out_of_msrs_origin_is_refused_and_the_token_stays(
    msr: MsrApi, elsewhere: tuple[Elsewhere, Elsewhere], method: str, target: str, status: int
) -> None:
    plain, tls = elsewhere
    to = {
        TARGETS[0]: plain.url + PATH,
        TARGETS[1]: tls.url + PATH,
        TARGETS[2]: msr.url.replace("https://", "http://") + PATH,
        TARGETS[3]: msr.url.replace("127.0.0.1", "localhost") + PATH,  # in its certificate
    }[target]
    error = redirected(msr, method, Trouble(status, location=to), msr.ca_pem + tls.ca_pem)
    message = str(error)
    assert f"MSR answered HTTP {status}, a redirect to {to}, which is not followed" in message
    assert "the token is sent to msrApi.url's origin" in message
    assert msr.state.token not in message and msr.state.authorization()[6:] not in message
    assert plain.seen == [] and tls.seen == []  # not made, so no Authorization reached them
    assert [s.method for s in msr.state.seen].count(method) == 1  # nor again to MSR by name
    assert len(msr.state.caches) == (1 if method == "DELETE" else 0)  # nothing done


@pytest.mark.parametrize("method", ["POST", "DELETE"])
def test_a_post_or_delete_is_not_redirected_even_within_msrs_origin(
    msr: MsrApi, method: str
) -> None:
    error = redirected(msr, method, Trouble(308, location=PATH + "/elsewhere"), msr.ca_pem)
    assert f"a redirect to {msr.url}{PATH}/elsewhere, which is not followed: a {method} is " \
        "not redirected" in str(error)  # fmt: skip


def test_a_get_redirected_within_msrs_origin_is_followed_with_the_token(msr: MsrApi) -> None:
    msr.state.failures = [Trouble(302, location=PATH + "?page=1")]
    created = provider.create(props(msr))
    assert list(msr.state.caches) == [created.id]
    assert [(s.method, s.path) for s in msr.state.seen[:2]] == [
        ("GET", PATH), ("GET", PATH + "?page=1")
    ]  # fmt: skip
    assert {s.authorization for s in msr.state.seen} == {msr.state.authorization()}


# 6. Idempotent, bounded retries.
def test_5xx_answers_are_retried(msr: MsrApi) -> None:
    msr.state.failures = [503, 502, 500]
    created = provider.create(props(msr))
    assert created.id in msr.state.caches
    assert len(msr.state.seen) == 5  # three failures, the list, the registration


@pytest.mark.parametrize("trouble", [
    Trouble(503, commit=True),  # MSR registered it, then failed to say so
    Trouble(504, commit=True, delay=0.6),  # ... or answered after the client gave up
], ids=["5xx", "timeout"])  # fmt: skip
def test_a_post_msr_committed_is_looked_up_not_sent_again(
    msr: MsrApi, trouble: Trouble, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(registration, "TIMEOUT", 0.3)
    msr.state.failures = [None, trouble]  # the list answers; the POST is the trouble
    created = provider.create(props(msr))
    assert asked(msr) == ["list", "post", "list", "read"]
    assert list(msr.state.caches) == [created.id]


@pytest.mark.parametrize("body", [b"", b"<html>created</html>", b"{}", b"[]"])
def test_a_post_answered_without_the_registration_is_looked_up(msr: MsrApi, body: bytes) -> None:
    # MSR carried it out and said 201, but the answer holds no id: the lookup finds it.
    msr.state.failures = [None, Trouble(201, commit=True, body=body)]
    created = provider.create(props(msr))
    assert asked(msr) == ["list", "post", "list", "read"]
    assert list(msr.state.caches) == [created.id]


def test_after_a_post_msr_may_have_carried_out_a_failed_lookup_is_retried_not_posted(
    msr: MsrApi,
) -> None:
    # The POST was carried out and answered 503; the lookup after it fails all its attempts:
    # the name is not known to be free, so no POST follows; a later lookup finds it.
    msr.state.failures = [None, Trouble(503, commit=True), *[503] * 5]
    created = provider.create(props(msr))
    assert asked(msr) == ["list", "post", *["list"] * 5, "list", "read"]
    assert list(msr.state.caches) == [created.id]


def test_a_registration_made_but_not_as_asked_is_deleted_again(msr: MsrApi) -> None:
    # MSR answers the POST with the registration it made, under another host: the state could
    # not hold it as declared, and it must not stay in MSR outside the state.
    msr.state.failures = [None, Trouble(201, commit=True, stored_host="https://other.example.com")]
    with pytest.raises(RegistrationError) as raised:
        provider.create(props(msr))
    assert "and host https://other.example.com, not " + HOST in str(raised.value)
    assert "so it was deleted again" in str(raised.value)
    assert asked(msr) == ["list", "post", "delete"]
    assert msr.state.caches == {}


def test_a_refused_second_post_is_settled_by_what_msr_holds(
    msr: MsrApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The first POST was committed but failed; the lookup after it reads a replica that has not
    # seen it yet, so the POST is sent again and MSR refuses the name it has: a second lookup
    # finds the registration, which is this create's.
    lookups: list[Any] = []
    find = registration._Api.find

    def lagging(api: Any, name: str) -> Any:
        lookups.append(found := find(api, name))
        return None if len(lookups) == 2 else found

    monkeypatch.setattr(registration._Api, "find", lagging)
    msr.state.failures = [None, Trouble(503, commit=True)]
    created = provider.create(props(msr))
    # The second lookup reads the registration, and is told nothing was found.
    assert asked(msr) == ["list", "post", "list", "read", "post", "list", "read"]
    assert list(msr.state.caches) == [created.id]


def test_the_last_post_msr_committed_is_found_after_the_retries(msr: MsrApi) -> None:
    # Every POST fails with a 5xx, each lookup between them finds nothing, and the fifth POST
    # was carried out: the lookup after the last attempt finds it.
    msr.state.failures = [None, 503, None, 503, None, 503, None, 503, None,
                          Trouble(503, commit=True)]  # fmt: skip
    created = provider.create(props(msr))
    assert asked(msr) == ["list", *["post", "list"] * 5, "read"]
    assert list(msr.state.caches) == [created.id]


def test_429_is_retried_after_its_retry_after(msr: MsrApi, monkeypatch: pytest.MonkeyPatch) -> None:
    waits: list[float] = []
    real = registration.time
    clock = SimpleNamespace(monotonic=real.monotonic, time=real.time, sleep=waits.append)
    monkeypatch.setattr(registration, "time", clock)
    msr.state.failures = [Trouble(429, retry_after="3")]
    created = provider.create(props(msr))
    assert waits == [3.0]
    assert created.id in msr.state.caches
    assert asked(msr) == ["list", "list", "post"]  # a 429 was refused: no lookup needed


def test_a_retry_after_past_the_deadline_fails_at_once(msr: MsrApi) -> None:
    msr.state.failures = [Trouble(429, retry_after=str(int(registration.DEADLINE) + 60))]
    with pytest.raises(RegistrationError, match=r"HTTP 429: MSR asks to wait 120 s, past"):
        provider.create(props(msr))
    assert asked(msr) == ["list"]


def test_retries_are_bounded_and_name_the_url_and_status(msr: MsrApi) -> None:
    msr.state.failures = [503] * 10
    with pytest.raises(RegistrationError, match=rf"GET {msr.url}{PATH}: HTTP 503, 5 attempts"):
        provider.create(props(msr))
    assert len(msr.state.seen) == 5


class _Clock:
    """time for registration.py: a clock that moves only when the code waits."""

    def __init__(self) -> None:
        self.now = 0.0

    def monotonic(self) -> float:
        return self.now

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


@dataclasses.dataclass
class Scripted:
    """MSR as a script of answers, on a clock that moves only when the code waits: each request
    takes the next answer, or, for None (or none left), its whole timeout and no answer."""

    answers: list[Any]
    clock: _Clock
    requests: list[tuple[str, float]] = dataclasses.field(default_factory=list[tuple[str, float]])

    def once(self, method: str, _url: str, _body: Any, timeout: float) -> Any:
        self.requests.append((method, timeout))
        answer = self.answers.pop(0) if self.answers else None
        if answer is None:
            self.clock.now += timeout
            raise TimeoutError("timed out")
        return answer

    def posts(self) -> list[float]:
        """The timeout of each POST."""
        return [timeout for method, timeout in self.requests if method == "POST"]


@pytest.fixture
def scripted(monkeypatch: pytest.MonkeyPatch) -> Iterator[Scripted]:
    """The real timeout, waits and deadline, on the script's clock: fill in its answers."""
    monkeypatch.setattr(registration, "RETRY_DELAYS", (0.5, 1.0, 2.0, 4.0))
    monkeypatch.setattr(registration, "SETTLE_WAIT", 2.0)
    clock = _Clock()
    monkeypatch.setattr(registration, "time", clock)
    script = Scripted([], clock)
    monkeypatch.setattr(registration._Api, "_once", lambda _api, *request: script.once(*request))
    yield script
    assert (registration.DEADLINE, registration.TIMEOUT) == (60.0, 10.0)
    assert registration.LOOKUP_RESERVE == 20.0


UNREACHABLE = {"apiUrl": "https://msr.example.com", "username": "admin", "token": "t",
               "name": "asia", "host": HOST}  # fmt: skip


@pytest.mark.parametrize(("answers", "failure", "posts", "ends"), [
    # MSR never answers: five attempts of the list, 57.5 s.
    ([], r"GET .*: cannot connect \(timed out\), 5 attempts", 0, 57.5),
    # The list answers; the POST times out (MSR may have carried it out), and so does every
    # lookup after it, until the deadline: no second POST, and an error that says what to do.
    ([[]], r"POST .*: cannot connect \(timed out\); MSR may have registered 'asia' all the "
     r"same, .* within 60 s.*msrApi\.adopt: true", 1, 60.0),
    # The list answers at its fifth attempt, at 47.5 s: too late to send a POST and still look
    # its name up, so none is sent.
    ([None, None, None, None, []], r"POST .*: no time left of 60 s, 0 attempts", 0, 47.5),
], ids=["never", "post-hangs", "list-slow"])  # fmt: skip
def test_the_worst_case_is_the_deadline(
    scripted: Scripted, answers: list[Any], failure: str, posts: int, ends: float
) -> None:
    """With the real timeout and waits, whatever MSR does, a create gives up within DEADLINE
    (60 s, what docs/operate.md says), not after 157 s; an attempt that would end past it is
    shortened."""
    scripted.answers = answers
    with pytest.raises(RegistrationError, match=failure):
        registration.MsrRegistrationProvider().create(UNREACHABLE)
    assert len(scripted.posts()) == posts
    assert scripted.clock.now == ends <= registration.DEADLINE


def test_a_post_answered_too_late_is_found_in_the_time_kept_to_look_it_up(
    scripted: Scripted,
) -> None:
    # The list answers at its fourth attempt (33.5 s); the POST may take only what is left
    # before the lookups' reserve (6.5 s), and gets no answer in that time, though MSR carried
    # it out: the lookup that follows finds it, well within the deadline.
    made = {"id": "cc-9", "name": "asia", "host": HOST}
    scripted.answers = [None, None, None, [], None, [made], made]
    created = registration.MsrRegistrationProvider().create(UNREACHABLE)
    assert created.id == "cc-9"
    assert scripted.posts() == [6.5]
    assert scripted.clock.now == registration.DEADLINE - registration.LOOKUP_RESERVE


def test_an_unreachable_msr_fails_after_the_retries() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        url = f"https://127.0.0.1:{s.getsockname()[1]}"  # nothing listens there
    with pytest.raises(RegistrationError, match=r"cannot connect .*, 5 attempts"):
        provider.create(
            {"apiUrl": url, "username": "admin", "token": "t", "name": "a", "host": HOST}
        )


@pytest.mark.parametrize("status", [401, 403])
def test_a_refused_token_is_an_error_without_the_token(msr: MsrApi, status: int) -> None:
    msr.state.failures = [status]
    with pytest.raises(RegistrationError) as raised:
        provider.create(props(msr))
    message = str(raised.value)
    assert f"refused user 'admin' (HTTP {status})" in message and msr.url in message
    assert msr.state.token not in message


def test_a_wrong_token_is_refused_by_msr(msr: MsrApi) -> None:
    with pytest.raises(RegistrationError, match="HTTP 401") as raised:
        provider.create(props(msr, token="wrong-token-value"))
    assert "wrong-token-value" not in str(raised.value)


@pytest.mark.parametrize(("key", "value", "reason"), [
    ("apiUrl", "http://msr.example.com", "https:// URL"),
    ("apiUrl", "https://admin:pa55w0rd@msr.example.com", "or credentials"),
    ("apiUrl", "http://admin:pa55w0rd@msr.example.com", "or credentials"),
    ("apiUrl", "https://msr.example.com/api/v0/content_caches", "the provider adds"),
    ("host", "cache.example.com", "https:// URL"),
    ("name", "", "non-empty"),
    ("caCertPem", "-----BEGIN CERTIFICATE-----\nnot a certificate\n", "PEM text"),
    ("adopt", "yes", "true or false"),
])  # fmt: skip
def test_check_refuses_what_msr_could_not_take(
    msr: MsrApi, key: str, value: str, reason: str
) -> None:
    failures = provider.check({}, props(msr, **{key: value})).failures
    assert [(f.property, reason in f.reason) for f in failures] == [(key, True)]
    assert "pa55w0rd" not in failures[0].reason


# As the engine runs it: `python -m pulumi.dynamic` in the program's directory, over gRPC.
@pytest.fixture(scope="module")
def dynamic_host() -> Iterator[provider_pb2_grpc.ResourceProviderStub]:
    with plugin_channel(
        [sys.executable, "-u", "-m", "pulumi.dynamic", "127.0.0.1:1"], ROOT
    ) as channel:
        yield provider_pb2_grpc.ResourceProviderStub(channel)


def wire(values: dict[str, Any]) -> struct_pb2.Struct:
    """The properties as the engine sends them, the provider serialized among them."""
    props = {"__provider": serialize_provider(MsrRegistrationProvider()), **values}
    # A loop of its own: asyncio.run would leave this thread without the loop the Pulumi mocks
    # of later tests use.
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(rpc.serialize_properties(props, {}))
    finally:
        loop.close()


URN = "urn:pulumi:dev::msr-cache::pulumi-python:dynamic/msr-cache:MsrRegistration::registration"


def test_the_engine_creates_and_deletes_through_the_dynamic_provider_host(
    msr: MsrApi, dynamic_host: provider_pb2_grpc.ResourceProviderStub
) -> None:
    # The host is another process: it waits between retries as users' runs do, so no failures.
    checked = dynamic_host.Check(
        provider_pb2.CheckRequest(urn=URN, news=wire(props(msr, apiUrl=msr.url + "/"))),
        timeout=30,
    )
    assert not checked.failures
    assert rpc.deserialize_properties(checked.inputs)["apiUrl"] == msr.url
    created = dynamic_host.Create(
        provider_pb2.CreateRequest(urn=URN, properties=checked.inputs), timeout=30
    )
    assert msr.state.caches[created.id]["host"] == HOST
    outs = rpc.deserialize_properties(created.properties)
    assert outs["token"] == msr.state.token
    dynamic_host.Delete(
        provider_pb2.DeleteRequest(id=created.id, urn=URN, properties=created.properties),
        timeout=30,
    )
    assert msr.state.caches == {}


def test_through_the_engine_a_refused_token_stays_out_of_the_error(
    msr: MsrApi, dynamic_host: provider_pb2_grpc.ResourceProviderStub
) -> None:
    request = provider_pb2.CreateRequest(
        urn=URN, properties=wire(props(msr, token="wrong-token-value"))
    )
    with pytest.raises(grpc.RpcError) as raised:
        dynamic_host.Create(request, timeout=30)
    details = raised.value.details()  # type: ignore[attr-defined]
    assert "RegistrationError: MSR at" in details and "refused user 'admin' (HTTP 401)" in details
    assert "wrong-token-value" not in details
