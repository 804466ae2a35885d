"""Which push services the app will talk to.

A subscription's endpoint is a URL the browser hands us and the worker later POSTs to,
so an endpoint on an internal host (127.0.0.1, 169.254.169.254, 10.x) would make the
server call into the city's own network. Only endpoints of the configured push
services are accepted, and the worker checks again before each send.

``PUSH_SERVICES`` entries are host names for https endpoints: ``fcm.googleapis.com``
matches that host, ``*.push.apple.com`` its subdomains. ``*`` accepts any public https
host (never an IP literal of a private, loopback, link-local or reserved network, nor
``localhost`` or a single-label name). An entry written as ``http://host`` (a local
test push service) allows plain http to exactly that host.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from urllib.parse import urlsplit

DEFAULT_PUSH_SERVICES = (
    "fcm.googleapis.com",  # Chrome, Android, Opera, Samsung Internet
    "*.push.services.mozilla.com",  # Firefox
    "*.push.apple.com",  # Safari on macOS and iOS
    "*.notify.windows.com",  # Edge (Windows Push Notification Services)
)
PRIVATE_SUFFIXES = (".local", ".localhost", ".internal", ".lan", ".home", ".corp")


def is_public_host(host: str) -> bool:
    """True when ``host`` names a machine on the public internet, as far as a name can say.

    IP literals must be globally routable; names must have a dot and not end in a
    suffix kept for private networks. (A public name that resolves to a private
    address is not caught here; list only push services you trust.)
    """
    host = host.strip(".").lower()
    if not host:
        return False
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return "." in host and host != "localhost" and not host.endswith(PRIVATE_SUFFIXES)
    return address.is_global and not address.is_multicast


def _host_matches(host: str, pattern: str) -> bool:
    if pattern.startswith("*."):
        return host.endswith(pattern[1:]) and len(host) > len(pattern) - 1
    return host == pattern


def endpoint_allowed(endpoint: str, services: Iterable[str]) -> bool:
    """True when ``endpoint`` is https on a listed push service (or http on a listed
    ``http://host`` entry)."""
    try:
        parts = urlsplit(endpoint)
        host = (parts.hostname or "").lower()
        parts.port  # noqa: B018 - a malformed port raises ValueError here
    except ValueError:
        return False
    if not host or parts.username or parts.password:
        return False
    for entry in services:
        entry = entry.strip().lower()
        if entry.startswith("http://"):
            if parts.scheme == "http" and host == entry[len("http://") :].rstrip("/"):
                return True
            continue
        if parts.scheme != "https":
            continue
        if entry == "*":
            if is_public_host(host):
                return True
        elif _host_matches(host, entry) and is_public_host(host):
            return True
    return False
