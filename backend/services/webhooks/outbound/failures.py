"""Why a webhook delivery attempt failed: a short code recorded with the attempt, the code read
from an exception, and the one sentence a merchant reads for it.

The attempt keeps three facts: the code (`error_code`), the status code the endpoint answered,
and the technical detail (`error`: the exception's text, or our own words for a refusal).
`reason()` turns them into plain language ("Certificate not trusted: it is self-signed",
"Timed out after 5 s without an answer", "Answered 500 Internal Server Error"); the portal
shows the technical detail and the first bytes of the answer behind a toggle.
"""

from __future__ import annotations

import re
import socket
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from http import HTTPStatus

import httpx


class FailureKind(StrEnum):
    HTTP_STATUS = "http_status"  # answered, but not 2xx
    REDIRECT = "redirect"  # answered 3xx; redirects are never followed
    TIMEOUT = "timeout"
    TLS_UNTRUSTED = "tls_untrusted"  # the certificate did not verify
    TLS_ERROR = "tls_error"  # no TLS session at all (plain http on that port, old protocol)
    CONNECTION_REFUSED = "connection_refused"
    CONNECTION_CLOSED = "connection_closed"  # the server hung up without answering
    CONNECTION_FAILED = "connection_failed"  # reset, unreachable, any other transport error
    DNS_FAILURE = "dns_failure"
    INVALID_URL = "invalid_url"
    ADDRESS_REFUSED = "address_refused"  # the guard against server-side request forgery
    SECRET_UNREADABLE = "secret_unreadable"  # the signing secret cannot be decrypted
    ENDPOINT_DISABLED = "endpoint_disabled"
    INTERNAL_ERROR = "internal_error"  # anything else that went wrong on our side


@dataclass(frozen=True)
class Failure:
    kind: FailureKind
    detail: str


def timeout_detail(seconds: float) -> str:
    return f"timed out after {seconds:g} s"


_TIMEOUT_SECONDS = re.compile(r"timed out after ([0-9.]+) s")


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """The exception and what caused it (httpx wraps httpcore, which wraps the OSError)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def classify(exc: BaseException, timeout: float) -> Failure:
    """The kind of failure an exception raised while sending an attempt stands for."""
    if isinstance(exc, httpx.TimeoutException):
        return Failure(FailureKind.TIMEOUT, timeout_detail(timeout))
    detail = f"{type(exc).__name__}: {exc}"
    causes = list(_causes(exc))
    kinds: list[tuple[type[BaseException] | tuple[type[BaseException], ...], FailureKind]] = [
        (ssl.SSLCertVerificationError, FailureKind.TLS_UNTRUSTED),
        (ssl.SSLError, FailureKind.TLS_ERROR),
        (ConnectionRefusedError, FailureKind.CONNECTION_REFUSED),
        (socket.gaierror, FailureKind.DNS_FAILURE),
        ((httpx.InvalidURL, httpx.UnsupportedProtocol), FailureKind.INVALID_URL),
        (httpx.RemoteProtocolError, FailureKind.CONNECTION_CLOSED),
        (httpx.TransportError, FailureKind.CONNECTION_FAILED),
    ]
    for types, kind in kinds:
        if any(isinstance(cause, types) for cause in causes):
            return Failure(kind, detail)
    return Failure(FailureKind.INTERNAL_ERROR, detail)


def _legacy_kind(status_code: int | None, detail: str) -> FailureKind | None:
    """The kind of an attempt recorded before kinds were (from the words we wrote then)."""
    if status_code is not None and not 200 <= status_code < 300:
        return FailureKind.REDIRECT if 300 <= status_code < 400 else FailureKind.HTTP_STATUS
    if not detail:
        return None
    for prefix, kind in (
        ("timed out", FailureKind.TIMEOUT),
        ("refused:", FailureKind.ADDRESS_REFUSED),
        ("cannot decrypt", FailureKind.SECRET_UNREADABLE),
        ("endpoint disabled", FailureKind.ENDPOINT_DISABLED),
    ):
        if detail.startswith(prefix):
            return kind
    if "CERTIFICATE_VERIFY_FAILED" in detail:
        return FailureKind.TLS_UNTRUSTED
    if "Connection refused" in detail:
        return FailureKind.CONNECTION_REFUSED
    return FailureKind.CONNECTION_FAILED


def _certificate_problem(detail: str) -> str:
    lowered = detail.lower()
    for words, problem in (
        ("self-signed", "it is self-signed"),
        ("self signed", "it is self-signed"),
        ("has expired", "it has expired"),
        ("not yet valid", "it is not valid yet"),
        ("hostname mismatch", "it is not issued for this host name"),
        ("ip address mismatch", "it is not issued for this address"),
        (
            "local issuer",
            "it is not issued by a known certificate authority (or the "
            "intermediate certificates are missing)",
        ),
    ):
        if words in lowered:
            return problem
    return "it could not be verified"


def failure_kind(
    kind: str | None, status_code: int | None, detail: str | None
) -> FailureKind | None:
    """The kind of a recorded attempt (or of a delivery's last one); None if it succeeded."""
    if not kind:
        return _legacy_kind(status_code, detail or "")
    try:
        return FailureKind(kind)
    except ValueError:  # a kind written by a newer version of this code
        return FailureKind.INTERNAL_ERROR


def reason(kind: str | None, status_code: int | None, detail: str | None) -> str | None:
    """One sentence, for people, saying why an attempt failed; None if it did not fail."""
    text = detail or ""
    known = failure_kind(kind, status_code, detail)
    if known is None:
        return None
    match known:
        case FailureKind.HTTP_STATUS | FailureKind.REDIRECT if status_code is not None:
            try:
                phrase = f"{status_code} {HTTPStatus(status_code).phrase}"
            except ValueError:
                phrase = str(status_code)
            if known is FailureKind.REDIRECT:
                return f"Answered {phrase}: redirects are not followed, register the final URL"
            return f"Answered {phrase}"
        case FailureKind.TIMEOUT:
            found = _TIMEOUT_SECONDS.search(text)
            return f"Timed out after {found[1]} s without an answer" if found else "Timed out"
        case FailureKind.TLS_UNTRUSTED:
            return f"Certificate not trusted: {_certificate_problem(text)}"
        case FailureKind.TLS_ERROR:
            return "No secure connection: is the endpoint serving https on that port?"
        case FailureKind.CONNECTION_REFUSED:
            return "Connection refused: nothing is listening at that address and port"
        case FailureKind.CONNECTION_CLOSED:
            return "The endpoint closed the connection without answering"
        case FailureKind.CONNECTION_FAILED:
            return "Could not reach the endpoint: the connection failed"
        case FailureKind.DNS_FAILURE:
            return "The host name could not be found (DNS)"
        case FailureKind.INVALID_URL:
            return "The endpoint's URL is not valid: correct it"
        case FailureKind.ADDRESS_REFUSED:
            return "Refused: the URL does not lead to a public https:// address"
        case FailureKind.SECRET_UNREADABLE:
            return "Not sent: the signing secret could not be read; roll it to fix this"
        case FailureKind.ENDPOINT_DISABLED:
            return "Not sent: the endpoint is disabled"
        case _:
            return "Not sent: an error on our side stopped this attempt"
