"""IP allowlists for the API channel and the admin chat, and the client address behind trusted reverse proxies.

An empty allowlist allows every address (the seeds' "no IP addresses defined" rule). Only as many X-Forwarded-For entries
as there are configured proxy hops are believed: everything further left is written by the client and can be spoofed.
"""

from __future__ import annotations

import ipaddress
import logging
import re
from dataclasses import dataclass
from typing import Iterable, Optional, Tuple, Union

logger = logging.getLogger(__name__)

IPAddress = Union[ipaddress.IPv4Address, ipaddress.IPv6Address]
IPNetwork = Union[ipaddress.IPv4Network, ipaddress.IPv6Network]

ACCEPTED_FORMS = "an IPv4 or IPv6 address (203.0.113.7, 2001:db8::7) or a CIDR range (203.0.113.0/24, 2001:db8::/32)"

_MAPPED_V4 = ipaddress.IPv6Network("::ffff:0:0/96")
_BRACKETED = re.compile(r"^\[([0-9A-Fa-f:.]+)\](?::\d{1,5})?$")
_V4_WITH_PORT = re.compile(r"^(\d{1,3}(?:\.\d{1,3}){3}):\d{1,5}$")


class InvalidAllowlistEntry(ValueError):
    """An allowlist entry that is not an address or CIDR range; the message names the entry and the accepted forms."""


@dataclass(frozen=True)
class IPAllowlist:
    """Parsed address ranges; IPv4-mapped IPv6 ranges and addresses are compared as the IPv4 they carry."""

    networks: Tuple[IPNetwork, ...] = ()

    @classmethod
    def parse(cls, entries: Union[str, Iterable[str]]) -> "IPAllowlist":
        """Parse a list of entries, or one comma/space separated string as admins type it."""
        items = re.split(r"[\s,;]+", entries) if isinstance(entries, str) else list(entries)
        networks = []
        for item in items:
            text = item.strip() if isinstance(item, str) else ""
            if not text:
                if isinstance(entries, str):
                    continue
                raise InvalidAllowlistEntry(f"an allowlist entry is empty; use {ACCEPTED_FORMS}")
            networks.append(_parse_network(text))
        return cls(tuple(dict.fromkeys(networks)))

    def __bool__(self) -> bool:
        return bool(self.networks)

    def allows(self, ip: Union[str, IPAddress]) -> bool:
        """True when the list is empty or ``ip`` lies in one of its ranges; an unreadable address is refused."""
        if not self.networks:
            return True
        address = parse_address(ip)
        if address is None:
            return False
        return any(address.version == net.version and address in net for net in self.networks)


@dataclass(frozen=True)
class ClientAddress:
    """Which address a request comes from, whether it was read from X-Forwarded-For, and why the header was not used."""

    ip: str
    from_header: bool
    problem: Optional[str] = None


def parse_address(ip: Union[str, IPAddress]) -> Optional[IPAddress]:
    """The address with IPv4-mapped IPv6 (``::ffff:203.0.113.7``) unwrapped to IPv4; None when it is not an address.

    A port (``203.0.113.7:443``, ``[2001:db8::1]:443``) is dropped, since some proxies append one.
    """
    if isinstance(ip, (ipaddress.IPv4Address, ipaddress.IPv6Address)):
        address: IPAddress = ip
    else:
        text = str(ip).strip()
        bracketed = _BRACKETED.match(text) or _V4_WITH_PORT.match(text)
        if bracketed:
            text = bracketed.group(1)
        try:
            address = ipaddress.ip_address(text)
        except ValueError:
            return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def resolve_client_ip(peer_ip: str, x_forwarded_for: Optional[str], trusted_hops: int) -> ClientAddress:
    """The right-most address not added by one of our ``trusted_hops`` proxies.

    The peer is the nearest proxy; each proxy appends the address it saw, so with N hops the client is the N-th entry
    from the right. With 0 hops the header is ignored; a header that is too short, or unreadable where we read it,
    falls back to the peer.
    """
    if trusted_hops < 0:
        raise ValueError(f"trusted proxy hops must be 0 or more, got {trusted_hops}")
    peer = _canonical(peer_ip)
    if trusted_hops == 0 or x_forwarded_for is None:
        return ClientAddress(peer, from_header=False)
    entries = [part.strip() for part in x_forwarded_for.split(",")]
    if not x_forwarded_for.strip():
        return ClientAddress(peer, False, "X-Forwarded-For header is empty")
    if len(entries) < trusted_hops:
        return ClientAddress(
            peer, False, f"X-Forwarded-For has {len(entries)} entries but {trusted_hops} proxy hops are trusted"
        )
    # Entries right of the client's were written by our own proxies; if any is unreadable the chain is not ours.
    for offset in range(1, trusted_hops + 1):
        position = len(entries) - offset
        if parse_address(entries[position]) is None:
            return ClientAddress(
                peer, False, f"X-Forwarded-For entry {position + 1} of {len(entries)} is not an IP address"
            )
    return ClientAddress(_canonical(entries[-trusted_hops]), from_header=True)


def client_ip(peer_ip: str, x_forwarded_for: Optional[str], trusted_hops: int) -> str:
    """The client address to check against the allowlist; a malformed header is logged (without addresses) and ignored."""
    resolved = resolve_client_ip(peer_ip, x_forwarded_for, trusted_hops)
    if resolved.problem:
        logger.warning("rasa-guard: %s; using the connecting peer's address instead", resolved.problem)
    return resolved.ip


def _canonical(ip: str) -> str:
    address = parse_address(ip)
    return str(address) if address is not None else str(ip).strip()


def _parse_network(text: str) -> IPNetwork:
    try:
        network = ipaddress.ip_network(text, strict=True)
    except ValueError as error:
        if "has host bits set" in str(error):
            loose = ipaddress.ip_network(text, strict=False)
            raise InvalidAllowlistEntry(
                f"allowlist entry {_shown(text)!r} has host bits set after the prefix; did you mean {loose}?"
            ) from None
        raise InvalidAllowlistEntry(f"allowlist entry {_shown(text)!r} is not valid; use {ACCEPTED_FORMS}") from None
    if isinstance(network, ipaddress.IPv6Network) and network.subnet_of(_MAPPED_V4) and network.prefixlen >= 96:
        mapped = network.network_address.ipv4_mapped
        assert mapped is not None
        return ipaddress.IPv4Network(f"{mapped}/{network.prefixlen - 96}")
    return network


def _shown(text: str) -> str:
    return text if len(text) <= 45 else text[:42] + "..."
