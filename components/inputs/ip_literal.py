"""Whether a host is an IP address, as the Go programs on either side of the cache read it: the one
reading of IP literals here.

Clients (containerd, Docker, MSR), the cache and Go's crypto/x509 take a host for an address when
Go's net.ParseIP does: a dotted IPv4 quad or an IPv6 literal, without brackets and without an
IPv6 zone (`fe80::1%eth0` is no address to ParseIP, so x509 matches it against DNS names and a
URL's host keeps the zone as text). Python's ipaddress reads the same literals, and a zone too:
that is left out here, so a zone is treated alike everywhere (a host with one is refused where
hosts are checked, with `has_zone` saying why). Pure Python: no Pulumi, nothing of the components.
"""

from __future__ import annotations

import ipaddress

__all__ = ["IPAddress", "has_zone", "ip_or_none"]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def ip_or_none(host: object) -> IPAddress | None:
    """The address `host` spells as Go's net.ParseIP reads it, else None (a name, or anything
    that is not text: ipaddress would take an integer for an address)."""
    if not isinstance(host, str) or "%" in host:
        return None
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def has_zone(host: object) -> bool:
    """Whether `host` is an IPv6 address with a zone (`fe80::1%eth0`), which no client reading
    the host as an address takes."""
    if not isinstance(host, str) or "%" not in host:
        return False
    address, _, zone = host.partition("%")
    return bool(zone) and isinstance(ip_or_none(address), ipaddress.IPv6Address)
