"""Fetch a photo a client hosts (Open311 ``media_url``) without becoming a proxy into
the city's network.

Rules, each one a refusal with a reason kept next to the URL:

- only ``http`` and ``https``, no user name or password in the URL;
- the host name is resolved once and every address must be public (no loopback,
  private, link-local, multicast or reserved ranges); the connection is then made
  to that checked address, so a second DNS answer cannot point it elsewhere;
- redirects are followed by hand (at most three), each hop checked the same way;
- a size limit (``MEDIA_FETCH_MAX_MB``) read in chunks, never trusting
  Content-Length, and a time limit for connect, each read and the whole fetch
  (``MEDIA_FETCH_TIMEOUT`` per URL; a report keeps at most three photos, so a
  submission waits at most three times that).

``MEDIA_FETCH_ALLOW_HOSTS`` names hosts (e.g. ``127.0.0.1`` in tests, or the city's
own CRM) that may be private. The bytes then go through the ordinary photo pipeline.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit, urlunsplit

import urllib3
from flask import current_app

MAX_REDIRECTS = 3
CHUNK = 64 * 1024
USER_AGENT = "Civic311 media fetcher"


@dataclass
class Fetched:
    """The outcome for one URL: the bytes, or why there are none."""

    url: str
    data: bytes | None = None
    error: str | None = None


class Refused(Exception):
    """A URL this fetcher will not follow, with a short reason."""


def _allowed_hosts() -> set[str]:
    raw = current_app.config.get("MEDIA_FETCH_ALLOW_HOSTS") or ""
    return {host.strip().lower() for host in raw.split(",") if host.strip()}


# Refusals that say the URL itself is not one to point anybody at: such a URL is not
# republished as the request's media_url reference.
UNSAFE_REFUSALS = frozenset(
    {"not a public address", "credentials in the URL", "only http and https URLs"}
)


def without_credentials(url: str) -> str:
    """``url`` with any ``user:password@`` removed (never published, never stored)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return ""
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


def public_reference(url: str, error: str | None) -> str | None:
    """The URL to keep as a request's ``media_url`` reference when its photo was not
    fetched, or None: only an http(s) URL that was not refused for what it points at,
    without credentials."""
    if error in UNSAFE_REFUSALS:
        return None
    clean = without_credentials(url)
    if urlsplit(clean).scheme.lower() not in ("http", "https"):
        return None
    return clean


NAT64_WELL_KNOWN = ipaddress.ip_network("64:ff9b::/96")
NAT64_LOCAL_USE = ipaddress.ip_network("64:ff9b:1::/48")
IPV4_COMPATIBLE = ipaddress.ip_network("::/96")


def embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for, when it carries one: IPv4-mapped
    (``::ffff:a.b.c.d``), IPv4-compatible (``::a.b.c.d``), NAT64 (``64:ff9b::a.b.c.d``)
    or 6to4 (``2002:aabb:ccdd::``). Connecting to it may reach that IPv4 address."""
    if ip.ipv4_mapped:
        return ip.ipv4_mapped
    if ip.sixtofour:
        return ip.sixtofour
    if ip in NAT64_WELL_KNOWN or ip in IPV4_COMPATIBLE:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def _public(address: str) -> bool:
    """True for a global unicast address; an IPv6 address that carries an IPv4 one is
    judged by that IPv4 address, and NAT64's local-use prefix never counts as public."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        if ip in NAT64_LOCAL_USE:
            return False
        ip = embedded_ipv4(ip) or ip
    return ip.is_global and not ip.is_multicast


def resolve(host: str, port: int) -> str:
    """The one address to connect to, after checking every address the name has."""
    try:
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError):
        raise Refused("host not found") from None
    addresses = [info[4][0] for info in infos]
    if not addresses:
        raise Refused("host not found")
    if host.lower() not in _allowed_hosts() and not all(_public(a) for a in addresses):
        raise Refused("not a public address")
    return addresses[0]


def _pool(scheme: str, host: str, address: str, port: int, timeout: urllib3.Timeout):
    if scheme == "https":
        return urllib3.HTTPSConnectionPool(
            address,
            port,
            timeout=timeout,
            retries=False,
            server_hostname=host,
            assert_hostname=host,
            cert_reqs="CERT_REQUIRED",
        )
    return urllib3.HTTPConnectionPool(address, port, timeout=timeout, retries=False)


def _one_hop(url: str, deadline: float, max_bytes: int) -> tuple[str | None, bytes | None]:
    """GET one URL: returns (next URL, None) for a redirect or (None, body)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Refused("only http and https URLs")
    if parts.username or parts.password:
        raise Refused("credentials in the URL")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    address = resolve(parts.hostname, port)
    left = deadline - time.monotonic()
    if left <= 0:
        raise Refused("too slow")
    timeout = urllib3.Timeout(connect=min(left, 5.0), read=left)
    pool = _pool(parts.scheme, parts.hostname, address, port, timeout)
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    host_header = parts.hostname if parts.port is None else f"{parts.hostname}:{parts.port}"
    try:
        response = pool.urlopen(
            "GET",
            path,
            headers={"Host": host_header, "User-Agent": USER_AGENT, "Accept": "image/*"},
            redirect=False,
            preload_content=False,
        )
    except (urllib3.exceptions.TimeoutError, urllib3.exceptions.MaxRetryError) as error:
        if isinstance(error, urllib3.exceptions.TimeoutError) or isinstance(
            getattr(error, "reason", None), urllib3.exceptions.TimeoutError
        ):
            raise Refused("too slow") from None
        raise Refused(f"could not connect ({type(error).__name__})") from None
    except urllib3.exceptions.HTTPError as error:
        raise Refused(f"could not connect ({type(error).__name__})") from None
    try:
        if response.status in (301, 302, 303, 307, 308):
            location = response.headers.get("Location")
            if not location:
                raise Refused("redirect without a location")
            return urljoin(url, location), None
        if response.status != 200:
            raise Refused(f"answered {response.status}")
        body = bytearray()
        try:
            for chunk in response.stream(CHUNK):
                body.extend(chunk)
                if len(body) > max_bytes:
                    raise Refused("too large")
                if time.monotonic() > deadline:
                    raise Refused("too slow")
        except urllib3.exceptions.HTTPError:
            raise Refused("too slow or cut off") from None
        return None, bytes(body)
    finally:
        response.release_conn()
        pool.close()


def fetch(url: str, *, deadline: float | None = None) -> Fetched:
    """Fetch one URL under the rules above; never raises for a bad or slow URL."""
    config = current_app.config
    max_bytes = int(config.get("MEDIA_FETCH_MAX_MB", 12)) * 1024 * 1024
    if deadline is None:
        deadline = time.monotonic() + float(config.get("MEDIA_FETCH_TIMEOUT", 5))
    current = url
    try:
        for _hop in range(MAX_REDIRECTS + 1):
            following, body = _one_hop(current, deadline, max_bytes)
            if following is None:
                return Fetched(url, data=body)
            current = following
        raise Refused("too many redirects")
    except Refused as refusal:
        return Fetched(url, error=str(refusal))


def fetch_all(urls: list[str]) -> list[Fetched]:
    """Fetch several URLs in turn, each within its own ``MEDIA_FETCH_TIMEOUT``."""
    return [fetch(url) for url in urls]
