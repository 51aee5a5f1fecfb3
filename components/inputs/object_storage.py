"""Object storage for the cache's blobs: distribution's s3, azure, gcs and swift drivers.

Non-secret parameters go in config.yaml; credentials go in a Secret and reach the container as
distribution's REGISTRY_STORAGE_<DRIVER>_<KEY> overrides (the GCS key file is mounted instead,
since the driver reads it from a path). Parameter names and requirements are distribution 2.8's.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from enum import StrEnum
from typing import Any

import pulumi

from .go_url import GoURL, GoURLError, parse_go_url
from .plain import is_mapping

CREDENTIALS_DIR = "/storage-credentials"
GCS_KEY_FILE = "gcs-keyfile.json"


class StorageDriver(StrEnum):
    """distribution's object storage drivers a cache can use."""

    S3 = "s3"
    AZURE = "azure"
    GCS = "gcs"
    SWIFT = "swift"


@dataclasses.dataclass(frozen=True)
class Driver:
    """What a driver takes: required parameters, optional ones, and which are credentials."""

    required: frozenset[str]
    optional: frozenset[str]
    secret: frozenset[str]


def _names(text: str) -> frozenset[str]:
    return frozenset(text.split())


DRIVERS: Mapping[StorageDriver, Driver] = {
    StorageDriver.S3: Driver(
        required=_names("region bucket"),
        optional=_names(
            "accesskey secretkey regionendpoint encrypt keyid secure skipverify v4auth chunksize "
            "multipartcopychunksize multipartcopymaxconcurrency multipartcopythresholdsize "
            "rootdirectory storageclass useragent objectacl"
        ),
        # Both optional: without them the driver uses the node's or pod's AWS identity.
        secret=_names("accesskey secretkey"),
    ),
    StorageDriver.AZURE: Driver(
        required=_names("accountname accountkey container"),
        optional=_names("realm"),
        secret=_names("accountkey"),
    ),
    StorageDriver.GCS: Driver(
        required=_names("bucket"),
        # keyfile: the service account's JSON key itself (mounted as a file for the driver).
        optional=_names("keyfile rootdirectory chunksize maxconcurrency"),
        secret=_names("keyfile"),
    ),
    StorageDriver.SWIFT: Driver(
        required=_names("username password authurl container"),
        optional=_names(
            "tenant tenantid domain domainid tenantdomain tenantdomainid trustid region "
            "authversion prefix endpointtype insecureskipverify chunksize secretkey accesskey "
            "tempurlcontainerkey tempurlmethods"
        ),
        # password: the Swift API key; secretkey: the TempURL key.
        secret=_names("password secretkey"),
    ),
}


STORAGE_CREDENTIALS = frozenset[str]().union(*(d.secret for d in DRIVERS.values()))
"""Every driver's credential parameter names."""
ENDPOINTS = frozenset({"regionendpoint", "authurl"})
"""The parameters that are URLs the driver connects to (s3's, swift's)."""


@dataclasses.dataclass(frozen=True)
class ObjectStorage:
    """A driver with its parameters, credentials kept apart."""

    driver: StorageDriver
    parameters: Mapping[str, Any]
    credentials: Mapping[str, pulumi.Input[str]]

    def config(self) -> dict[str, Any]:
        """The driver's section of config.yaml: every parameter but the credentials."""
        section = dict(self.parameters)
        if "keyfile" in self.credentials:
            section["keyfile"] = f"{CREDENTIALS_DIR}/{GCS_KEY_FILE}"
        return {str(self.driver): section}

    def secret_key(self, parameter: str) -> str:
        """The key of a credential in the storage Secret."""
        return GCS_KEY_FILE if parameter == "keyfile" else f"{self.driver}-{parameter}"

    def environment(self, secret: object) -> list[dict[str, Any]]:
        """REGISTRY_STORAGE_<DRIVER>_<KEY> variables from the Secret named `secret`."""
        return [
            {
                "name": f"REGISTRY_STORAGE_{self.driver.upper()}_{parameter.upper()}",
                "valueFrom": {"secretKeyRef": {"name": secret, "key": self.secret_key(parameter)}},
            }
            for parameter in sorted(self.credentials)
            if parameter != "keyfile"
        ]

    def ports(self) -> set[int]:
        """The TCP ports the driver connects to: its endpoint URLs' ports, else https' 443."""
        ports = {443}
        for key in sorted(ENDPOINTS):
            endpoint = self.parameters.get(key)
            if isinstance(endpoint, str):
                url = parse_go_url(endpoint)
                ports.add(int(url.port) if url.port else (80 if url.scheme == "http" else 443))
        return ports

    @property
    def mounts_key_file(self) -> bool:
        """Whether a credential is a file the driver reads (GCS' key file)."""
        return "keyfile" in self.credentials


def check_object_storage(value: Any) -> ObjectStorage:
    """`{driver, ...parameters}`; raises ValueError saying what is accepted.

    Credentials may be Outputs (a key made by another resource); everything else must be plain."""
    drivers = ", ".join(d.value for d in StorageDriver)
    if not is_mapping(value) or "driver" not in value:
        raise ValueError(f"an object {{driver: {drivers}, ...the driver's parameters}}")
    try:
        driver = StorageDriver(value["driver"])
    except ValueError:
        raise ValueError(f"driver one of {drivers}, with its parameters") from None
    spec = DRIVERS[driver]
    # distribution's drivers read lowercase parameter names: `secretKey` means secretkey (and is
    # a credential, kept out of config.yaml), not a parameter the driver would ignore.
    given = {str(k).lower(): v for k, v in value.items() if k != "driver" and v is not None}
    if len(given) < len([k for k, v in value.items() if k != "driver" and v is not None]):
        raise ValueError(f"each of the {driver} driver's parameters once, in any case")
    missing = sorted(spec.required - set(given))
    unknown = sorted(_named(k) for k in set(given) - spec.required - spec.optional)
    if missing or unknown:
        raise ValueError(
            f"the {driver} driver's parameters: required {', '.join(sorted(spec.required))}; "
            f"optional {', '.join(sorted(spec.optional))}"
            + (f" (missing {', '.join(missing)})" if missing else "")
            + (f" (unknown {', '.join(unknown)})" if unknown else "")
        )
    credentials: dict[str, pulumi.Input[str]] = {}
    parameters: dict[str, Any] = {}
    for key, item in given.items():
        if key in spec.secret:
            if not isinstance(item, (str, pulumi.Output)) or item == "":
                raise ValueError(f"{driver} credential {key} as a non-empty string")
            credentials[key] = item
        elif isinstance(item, pulumi.Output) or not isinstance(item, (str, bool, int)):
            raise ValueError(f"{driver} parameter {key} as a plain string, number or boolean")
        else:
            if key in ENDPOINTS or (isinstance(item, str) and "@" in item and "://" in item):
                _check_endpoint(driver, key, item)
            parameters[key] = item
    return ObjectStorage(driver, parameters, credentials)


def _named(key: str) -> str:
    """A parameter name as an error may show it: a key that does not read as a name may be a
    value written where a key goes."""
    return key if key.isidentifier() and len(key) <= 40 else "<a key that is not a name>"


def _check_endpoint(driver: StorageDriver, key: str, value: Any) -> GoURL:
    """An endpoint as the driver (Go) reads it: http(s)://host[:port][/path], with no credentials,
    which config.yaml (a ConfigMap) would hold in the clear."""
    accepted = f"{driver} parameter {key} as an http(s)://host[:port] URL"
    try:
        url = parse_go_url(value) if isinstance(value, str) else None
    except GoURLError as err:  # its reason: Go's message may quote a part of a password
        raise ValueError(f"{accepted} (Go's net/url, which the cache uses: {err.reason})") from None
    if url is not None and url.userinfo is not None:
        own = {StorageDriver.S3: "accesskey and secretkey", StorageDriver.SWIFT: "password"}
        raise ValueError(
            f"{accepted}, without credentials (user:password@): config.yaml is a ConfigMap, "
            f"readable in the clear; give them as the {driver} driver's "
            f"{own.get(driver, 'credential parameters')}, which go to a Secret"
        )
    if (
        url is None
        or url.scheme not in ("http", "https")
        or not url.hostname
        or url.host.endswith(":")
        or (url.port != "" and not 1 <= int(url.port) <= 65535)
    ):
        raise ValueError(accepted)
    return url
