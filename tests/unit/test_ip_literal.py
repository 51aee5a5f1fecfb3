"""components.inputs.ip_literal, the one reading of IP literals: Go's net.ParseIP, whose cases these are
(golang/go src/net/ip_test.go parseIPTests, commit 0ee2f723e8ab08e61d5036d4fa4bcdfb0e426bb4, less
`0:0:0:0:000000:ffff:127.1.2.3`, a five-digit group only that old parser took), then the zones
that every layer now treats alike."""

from __future__ import annotations

import ipaddress

import pytest

from components.inputs import checks, given_certificates
from components.inputs.ip_literal import has_zone, ip_or_none
from components.inputs.problems import Invalid

ADDRESSES = [
    ("127.0.1.2", "127.0.1.2"),
    ("127.0.0.1", "127.0.0.1"),
    ("::ffff:127.1.2.3", "::ffff:7f01:203"),
    ("::ffff:7f01:0203", "::ffff:7f01:203"),
    ("0:0:0:0:0000:ffff:127.1.2.3", "::ffff:7f01:203"),
    ("0:0:0:0::ffff:127.1.2.3", "::ffff:7f01:203"),
    ("2001:4860:0:2001::68", "2001:4860:0:2001::68"),
    ("2001:4860:0000:2001:0000:0000:0000:0068", "2001:4860:0:2001::68"),
]
NOT_ADDRESSES = [
    "-0.0.0.0", "0.-1.0.0", "0.0.-2.0", "0.0.0.-3", "127.0.0.256", "abc", "123:",
    "fe80::1%lo0", "fe80::1%911", "", "a1:a2:a3:a4::b1:b2:b3:b4", "127.001.002.003",
    "::ffff:127.001.002.003", "123.000.000.000", "1.2..4", "0123.0.0.1",
    # Beyond upstream: brackets are a URL's, not an address's; an integer is no text.
    "[::1]", 2130706433,
]  # fmt: skip


@pytest.mark.parametrize(("text", "address"), ADDRESSES)
def test_an_address_is_read_as_go_reads_it(text: str, address: str) -> None:
    assert ip_or_none(text) == ipaddress.ip_address(address)


@pytest.mark.parametrize("text", NOT_ADDRESSES)
def test_anything_else_is_no_address(text: object) -> None:
    assert ip_or_none(text) is None


@pytest.mark.parametrize(
    ("text", "zoned"), [("fe80::1%eth0", True), ("fe80::1%", False), ("a%b", False), ("::1", False)]
)
def test_a_zone_is_told_apart(text: str, zoned: bool) -> None:
    assert has_zone(text) is zoned


def test_the_checks_and_the_hostname_matching_agree_on_zones() -> None:
    """The layers once disagreed: the checks read a zoned host as an address, x509's port did
    not. Now a zoned host is refused as a host, saying why, and matches no IP SAN."""
    with pytest.raises(Invalid, match="no IPv6 zone"):
        checks.check_host("fe80::1%eth0")
    assert not given_certificates._verify_hostname(
        [], [ipaddress.ip_address("fe80::1")], "fe80::1%eth0"
    )  # pyright: ignore[reportPrivateUsage]
