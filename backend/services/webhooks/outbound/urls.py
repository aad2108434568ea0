"""Which URLs a webhook endpoint may have, and the address a delivery connects to.

A URL is refused, at registration and again at each attempt, when it:
- is not a well-formed http(s) URL: control characters, whitespace (anywhere: we never trim
  it silently), NUL, characters that must be percent-encoded, a stray `%`, credentials, a
  #fragment, a bad host name or port;
- is not https, or resolves to an address that is not public (private, loopback, link-local,
  multicast, reserved or unspecified). The request then goes to that checked address (the
  Host header and TLS server name stay the URL's), so DNS cannot point us elsewhere between
  the check and the connection (server-side request forgery).

Local development: test-mode endpoints may be http(s)://localhost, 127.0.0.1 or [::1] (those
host names exactly, resolving to loopback only: never another private range) when the
settings allow it (APP_ENV=development or WEBHOOKS_ALLOW_LOOPBACK, never in production);
live mode never.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from urllib.parse import urlsplit

import httpx

from backend.core.config import get_settings
from backend.core.errors import ValidationFailed
from backend.core.url_text import character_problem
from backend.services.webhooks.outbound.failures import FailureKind

MAX_URL_LENGTH = 2048
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")


class UrlRefused(ValidationFailed):
    """A refused endpoint URL (422, param "url") and the kind of failure it is at delivery."""

    def __init__(self, message: str, kind: FailureKind) -> None:
        super().__init__(message, param="url", code="url_not_allowed")
        self.kind = kind


def loopback_allowed(livemode: bool) -> bool:
    """Whether endpoints of this mode may be http(s)://localhost, 127.0.0.1 or [::1] here."""
    return not livemode and get_settings().webhooks_loopback_allowed


def _forbidden(ip: IPAddress) -> bool:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped  # ::ffff:10.0.0.1 reaches 10.0.0.1
    # is_global alone misses multicast (224.0.0.0/4 counts as global), hence the explicit list.
    return (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or not ip.is_global
    )


def is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        return False


def _valid_hostname(host: str) -> bool:
    if is_ip(host):
        return True
    try:
        ascii_host = host.encode("idna").decode("ascii")
    except UnicodeError:
        return False
    labels = ascii_host.removesuffix(".").split(".")
    return len(ascii_host) <= 253 and all(_LABEL.fullmatch(label) for label in labels)


def _resolve(host: str, port: int) -> list[IPAddress]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise UrlRefused(f"{host} cannot be resolved", FailureKind.DNS_FAILURE) from exc
    addresses: list[IPAddress] = []
    for info in infos:
        ip = ipaddress.ip_address(str(info[4][0]).split("%")[0])  # drop an IPv6 scope id
        if ip not in addresses:
            addresses.append(ip)
    if not addresses:
        raise UrlRefused(f"{host} cannot be resolved", FailureKind.DNS_FAILURE)
    # IPv4 first: the request goes to one checked address, and many servers lack IPv6 routes.
    return sorted(addresses, key=lambda ip: ip.version)


def check_url(url: object, *, livemode: bool) -> str:
    """The address to connect to for url, or UrlRefused (a ValidationFailed) saying why not."""
    if not isinstance(url, str) or not 0 < len(url) <= MAX_URL_LENGTH:
        raise UrlRefused(f"url must be 1 to {MAX_URL_LENGTH} characters", FailureKind.INVALID_URL)
    problem = character_problem(url, "url")
    if problem:
        raise UrlRefused(problem, FailureKind.INVALID_URL)
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UrlRefused("url is not a valid URL", FailureKind.INVALID_URL) from exc
    host = parts.hostname
    if parts.scheme not in ("https", "http") or not host:
        raise UrlRefused("url must be an https:// URL", FailureKind.INVALID_URL)
    local = host in LOOPBACK_HOSTS
    loopback_ok = local and loopback_allowed(livemode)
    if local and not loopback_ok and not livemode and not get_settings().is_production:
        raise UrlRefused(
            "localhost URLs are accepted for test-mode endpoints on a development server only "
            "(APP_ENV=development or WEBHOOKS_ALLOW_LOOPBACK=true)",
            FailureKind.ADDRESS_REFUSED,
        )
    if parts.scheme == "http" and not loopback_ok:
        raise UrlRefused("url must use https://", FailureKind.ADDRESS_REFUSED)
    if parts.username is not None or parts.password is not None:
        raise UrlRefused("url must not contain credentials", FailureKind.INVALID_URL)
    if parts.fragment:
        raise UrlRefused("url must not contain a #fragment", FailureKind.INVALID_URL)
    if not _valid_hostname(host):
        raise UrlRefused(f"{host!r} is not a valid host name", FailureKind.INVALID_URL)
    try:
        httpx.URL(url)  # what the delivery will build: it must accept the URL too
    except httpx.InvalidURL as exc:
        raise UrlRefused("url is not a valid URL", FailureKind.INVALID_URL) from exc
    addresses = _resolve(host, port or (443 if parts.scheme == "https" else 80))
    for ip in addresses:
        if loopback_ok and ip.is_loopback:
            continue
        if _forbidden(ip):
            raise UrlRefused(
                f"{host} resolves to {ip}, which is not a public address: webhook endpoints "
                "must be reachable on the internet",
                FailureKind.ADDRESS_REFUSED,
            )
    if parts.scheme == "http" and not all(ip.is_loopback for ip in addresses):
        raise UrlRefused("url must use https://", FailureKind.ADDRESS_REFUSED)
    return str(addresses[0])
