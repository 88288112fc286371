"""API IP allowlist: addresses and CIDR ranges (IPv4, IPv6, IPv4-mapped) and the client address behind trusted proxies."""

import ipaddress
import logging

import pytest
from hypothesis import given
from hypothesis import strategies as st

from plugin.policy.ip_allowlist import (
    IPAllowlist,
    InvalidAllowlistEntry,
    client_ip,
    resolve_client_ip,
)

# Documentation ranges only: 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32.


def test_empty_allowlist_allows_any_address() -> None:
    allowlist = IPAllowlist.parse([])
    assert not allowlist
    assert allowlist.allows("198.51.100.9") and allowlist.allows("2001:db8::1")
    assert IPAllowlist.parse("  ").allows("192.0.2.1")


def test_single_addresses_and_cidr_ranges() -> None:
    allowlist = IPAllowlist.parse(["203.0.113.7", "198.51.100.0/24", "2001:db8:abcd::/48"])
    assert allowlist.allows("203.0.113.7")
    assert not allowlist.allows("203.0.113.8")
    assert allowlist.allows("198.51.100.0") and allowlist.allows("198.51.100.255")
    assert not allowlist.allows("198.51.101.0")
    assert allowlist.allows("2001:db8:abcd:12::5")
    assert not allowlist.allows("2001:db8:abce::5")


def test_comma_separated_string_as_admins_type_it() -> None:
    allowlist = IPAllowlist.parse("203.0.113.7, 198.51.100.0/24,2001:db8::1")
    assert len(allowlist.networks) == 3
    assert allowlist.allows("2001:0db8:0000::0001")


def test_ipv4_mapped_ipv6_peer_is_checked_as_ipv4() -> None:
    allowlist = IPAllowlist.parse(["198.51.100.0/24"])
    assert allowlist.allows("::ffff:198.51.100.20")
    assert not allowlist.allows("::ffff:203.0.113.20")


def test_ipv4_mapped_entry_allows_the_plain_ipv4_address() -> None:
    allowlist = IPAllowlist.parse(["::ffff:198.51.100.0/120"])
    assert allowlist.networks == (ipaddress.IPv4Network("198.51.100.0/24"),)
    assert allowlist.allows("198.51.100.77")


def test_ipv4_and_ipv6_ranges_never_mix() -> None:
    assert not IPAllowlist.parse(["::/0"]).allows("203.0.113.7")
    assert not IPAllowlist.parse(["0.0.0.0/0"]).allows("2001:db8::1")


@pytest.mark.parametrize("peer", ["", "unknown", "not-an-ip", "203.0.113", "999.1.1.1"])
def test_unreadable_address_is_refused_by_a_non_empty_list(peer: str) -> None:
    assert not IPAllowlist.parse(["0.0.0.0/0", "::/0"]).allows(peer)


@pytest.mark.parametrize("entry", ["203.0.113.300", "2001:db8::/129", "office", "203.0.113.0/24/8", ""])
def test_invalid_entry_names_the_entry_and_the_accepted_forms(entry: str) -> None:
    with pytest.raises(InvalidAllowlistEntry) as error:
        IPAllowlist.parse(["198.51.100.1", entry])
    message = str(error.value)
    assert "CIDR range (203.0.113.0/24" in message
    if entry:
        assert repr(entry) in message


def test_range_with_host_bits_suggests_the_network() -> None:
    with pytest.raises(InvalidAllowlistEntry, match=r"did you mean 198\.51\.100\.0/24"):
        IPAllowlist.parse(["198.51.100.7/24"])


@given(st.ip_addresses(v=4), st.integers(min_value=0, max_value=32))
def test_an_address_is_allowed_exactly_when_it_is_in_the_range(address, prefix) -> None:
    network = ipaddress.ip_network(f"{address}/{prefix}", strict=False)
    allowlist = IPAllowlist.parse([str(network)])
    assert allowlist.allows(str(address))
    assert allowlist.allows(f"::ffff:{address}")
    if prefix > 0:
        top = network.broadcast_address == ipaddress.IPv4Address("255.255.255.255")
        outside = network.network_address - 1 if top else network.broadcast_address + 1
        assert not allowlist.allows(str(outside))


# X-Forwarded-For: "client, proxy1, proxy2"; the peer is the nearest proxy.
PEER = "10.0.0.2"


def test_zero_hops_ignores_the_header() -> None:
    assert client_ip(PEER, "203.0.113.7", 0) == PEER
    assert client_ip(PEER, None, 0) == PEER


def test_one_hop_takes_the_right_most_entry() -> None:
    assert client_ip(PEER, "203.0.113.7", 1) == "203.0.113.7"
    resolved = resolve_client_ip(PEER, "198.51.100.1, 203.0.113.7", 1)
    assert resolved.ip == "203.0.113.7" and resolved.from_header and resolved.problem is None


def test_two_hops_take_the_second_entry_from_the_right() -> None:
    assert client_ip(PEER, "203.0.113.7, 10.0.0.1", 2) == "203.0.113.7"


def test_spoofed_left_most_entries_are_ignored() -> None:
    # The client wrote "192.0.2.1, 192.0.2.2" itself; our one proxy appended the address it really saw.
    assert client_ip(PEER, "192.0.2.1, 192.0.2.2, 203.0.113.7", 1) == "203.0.113.7"
    assert client_ip(PEER, "garbage, <script>, 203.0.113.7, 10.0.0.1", 2) == "203.0.113.7"
    allowlist = IPAllowlist.parse(["192.0.2.0/24"])
    assert not allowlist.allows(client_ip(PEER, "192.0.2.1, 203.0.113.7", 1))


def test_header_shorter_than_the_trusted_hops_falls_back_to_the_peer() -> None:
    resolved = resolve_client_ip(PEER, "203.0.113.7", 2)
    assert resolved.ip == PEER and not resolved.from_header
    assert "1 entries but 2 proxy hops" in resolved.problem


@pytest.mark.parametrize("header", ["", "  ", "not-an-ip", "203.0.113.7, unknown", "203.0.113.7,,"])
def test_malformed_header_falls_back_to_the_peer_and_reports_without_addresses(header: str, caplog) -> None:
    with caplog.at_level(logging.WARNING, logger="plugin.policy.ip_allowlist"):
        assert client_ip(PEER, header, 1) == PEER
    assert caplog.records, "a malformed header must be reported"
    assert "203.0.113.7" not in caplog.text and PEER not in caplog.text


def test_ports_and_brackets_and_mapped_addresses_are_normalised() -> None:
    assert client_ip(PEER, "203.0.113.7:51234", 1) == "203.0.113.7"
    assert client_ip(PEER, "[2001:db8::7]:443", 1) == "2001:db8::7"
    assert client_ip(PEER, "::ffff:203.0.113.7", 1) == "203.0.113.7"
    assert client_ip("::ffff:10.0.0.2", None, 0) == "10.0.0.2"


def test_negative_hops_are_a_configuration_error() -> None:
    with pytest.raises(ValueError, match="0 or more"):
        client_ip(PEER, "203.0.113.7", -1)
