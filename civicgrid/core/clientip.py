"""The client's address behind reverse proxies, trusting only the proxies we were told of.

``X-Forwarded-For`` is written by whoever sends the request, so it is read only when the
direct peer is a configured proxy (``CIVICGRID_TRUSTED_PROXIES``: addresses or networks).
The header is then read from the right, skipping our own proxies: the first address that
is not one of them is the client, as far as anything we trust can tell. A forged value
further left is never reached, and a request straight from an untrusted peer keeps that
peer's address whatever its headers say.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponse

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
PEER_KEY = "CIVICGRID_PEER_ADDR"


def parse_proxies(values: Iterable[str]) -> list[Network]:
    networks = []
    for value in values:
        try:
            networks.append(ipaddress.ip_network(value.strip(), strict=False))
        except ValueError:
            raise ImproperlyConfigured(
                f"CIVICGRID_TRUSTED_PROXIES: {value!r} is not an address or network."
            ) from None
    return networks


def _address(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    value = value.strip()
    if value.startswith("[") and "]" in value:  # [v6]:port
        value = value[1 : value.index("]")]
    elif value.count(":") == 1:  # v4:port
        value = value.split(":")[0]
    try:
        return ipaddress.ip_address(value)
    except ValueError:
        return None


def _trusted(address: object, proxies: list[Network]) -> bool:
    return any(address in network for network in proxies)


def client_address_from(peer: str, forwarded_for: str, proxies: list[Network]) -> str:
    """The client address for a request from ``peer`` carrying ``forwarded_for``."""
    peer_address = _address(peer)
    if peer_address is None or not _trusted(peer_address, proxies):
        return peer
    for hop in reversed([part for part in forwarded_for.split(",") if part.strip()]):
        address = _address(hop)
        if address is None:
            return peer  # a garbled chain: trust nothing in it
        if not _trusted(address, proxies):
            return str(address)
    return peer


class TrustedProxyMiddleware:
    """Put the client's address in ``REMOTE_ADDR`` (the peer's stays in ``CIVICGRID_PEER_ADDR``).

    First in the chain, so every later reader -- django-axes, the login delays, the public
    rate limits -- sees the same address.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.proxies = parse_proxies(getattr(settings, "CIVICGRID_TRUSTED_PROXIES", []))

    def __call__(self, request: HttpRequest) -> HttpResponse:
        peer = request.META.get("REMOTE_ADDR", "")
        request.META[PEER_KEY] = peer
        if self.proxies:
            request.META["REMOTE_ADDR"] = client_address_from(
                peer, request.META.get("HTTP_X_FORWARDED_FOR", ""), self.proxies
            )
        return self.get_response(request)
