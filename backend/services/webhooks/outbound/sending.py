"""One HTTP POST of a delivery: to the checked address, with the URL's Host and TLS name, no
redirects followed, at most EXCERPT_BYTES of the answer read. Transport failures come back as a
Response with their kind (failures.py), never as an exception.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import httpx

from backend.services.webhooks.outbound.failures import FailureKind, classify
from backend.services.webhooks.outbound.urls import is_ip

EXCERPT_BYTES = 2048


@dataclass(frozen=True)
class Response:
    status_code: int | None
    latency_ms: int
    excerpt: str | None
    error: str | None
    kind: FailureKind | None = None  # why it failed; None for a 2xx answer

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def post(url: str, address: str, body: bytes, headers: dict[str, str], timeout: float) -> Response:
    """POST to the checked address with the URL's Host and TLS name; redirects not followed."""
    target = httpx.URL(url)
    headers = {**headers, "Host": target.netloc.decode("ascii")}
    extensions: dict[str, Any] = {}
    if target.scheme == "https" and not is_ip(target.host):
        extensions["sni_hostname"] = target.host  # also the name the certificate must match
    started = time.monotonic()
    status: int | None = None
    excerpt: str | None = None
    error: str | None = None
    kind: FailureKind | None = None
    try:
        # trust_env=False: an HTTP(S)_PROXY from the environment would bypass the address check.
        with (
            httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False) as client,
            client.stream(
                "POST",
                target.copy_with(host=address),
                content=body,
                headers=headers,
                extensions=extensions,
            ) as response,
        ):
            status = response.status_code
            if 300 <= status < 400:
                error, kind = "redirects are not followed", FailureKind.REDIRECT
            elif not 200 <= status < 300:
                kind = FailureKind.HTTP_STATUS
            excerpt = _excerpt(response, deadline=started + timeout)
    except httpx.HTTPError as exc:  # timeouts, TLS, refused or broken connections
        failure = classify(exc, timeout)
        error = failure.detail
        kind = kind or failure.kind  # an answer's status says more than its broken body
    latency = round((time.monotonic() - started) * 1000)
    return Response(status, latency, excerpt, clean(error), kind)


def _excerpt(response: httpx.Response, deadline: float) -> str:
    """At most the first EXCERPT_BYTES of the body, read until the deadline; the rest never."""
    data = bytearray()
    for chunk in response.iter_raw():
        data += chunk
        if len(data) >= EXCERPT_BYTES or time.monotonic() > deadline:
            break
    return clean(bytes(data[:EXCERPT_BYTES]).decode("utf-8", errors="replace")) or ""


def clean(text: str | None) -> str | None:
    """Text any database stores: no NUL (PostgreSQL refuses it, and receivers do send it), no
    lone surrogate (no encoding can write one), at most EXCERPT_BYTES characters."""
    if text is None:
        return None
    valid = text.encode("utf-8", errors="replace").decode("utf-8")
    return valid.replace("\x00", "")[:EXCERPT_BYTES]
