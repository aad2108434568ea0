"""PayPal's REST API (Orders v2, Payments v2, Notifications v1) over httpx.

Why REST and not the official SDK: `paypal-server-sdk` (2.4.0 on PyPI) takes its address from a
class-level table of two environments (api-m.paypal.com and api-m.sandbox.paypal.com) with no
option to give another, so pointing it at a local fake on 127.0.0.1 would mean patching that
table (an undocumented reach-in); it also brings four generated-code dependencies
(apimatic-core and friends) and does not cover the webhook verification call. The documented REST
API with httpx (already a dependency) is a few hundred lines we own, and the tests drive exactly
this code against tests/fakes/paypal_api.py.

One `PayPalClient` per PayPal app (client id + secret and environment): it holds an httpx.Client
(connection pool, one timeout) and the OAuth2 access token from the client-credentials grant,
cached until shortly before it expires and fetched again after a 401. Thread-safe.

Failures come back as our exceptions, classified by whether PayPal may have acted:

=========================================  =================================  =================
What happened                              Raised                             code
=========================================  =================================  =================
connect refused / DNS / TLS / connect      GatewayUnavailable                 gateway_unreachable
  timeout / pool timeout
read or write timeout                      GatewayUnavailable                 gateway_timeout
connection dropped after sending           GatewayUnavailable               gateway_connection_lost
HTTP 5xx                                   GatewayUnavailable                 gateway_error
HTTP 429                                   GatewayUnavailable                 gateway_rate_limited
HTTP 401 twice (token refreshed) / 403,    GatewayUnavailable                 gateway_auth_failed
  token endpoint refusing the app
the token endpoint unreachable             GatewayUnavailable                 gateway_unreachable
any other 4xx                              PayPalError (the gateway maps its  -
                                           `issue` to ours, gateway.py)
=========================================  =================================  =================

A token request that fails never moved money, so every failure of it is "not processed".
"""

from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

import httpx

from backend.gateways.base import GatewayUnavailable

log = logging.getLogger(__name__)

LIVE_API = "https://api-m.paypal.com"
SANDBOX_API = "https://api-m.sandbox.paypal.com"
ENVIRONMENTS = {"live": LIVE_API, "sandbox": SANDBOX_API}
# Fetch a new token this long before PayPal says the old one expires.
TOKEN_MARGIN_SECONDS = 60


@dataclass
class PayPalError(Exception):
    """A 4xx answer PayPal gave with its error body: `name` (UNPROCESSABLE_ENTITY,
    RESOURCE_NOT_FOUND, INVALID_REQUEST...) and the first detail's `issue`."""

    status: int
    name: str
    issue: str | None
    message: str
    debug_id: str | None = None

    def __str__(self) -> str:
        return f"PayPal {self.status} {self.name}/{self.issue}: {self.message}"


class PayPalClient:
    def __init__(
        self,
        client_id: str,
        secret: str,
        *,
        environment: str = "sandbox",
        api_base: str | None = None,
        timeout: float = 10.0,
    ):
        if not client_id or not secret:
            raise ValueError("A PayPal client id and secret are required")
        if environment not in ENVIRONMENTS:
            raise ValueError(f"environment is one of {', '.join(ENVIRONMENTS)}")
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        self.client_id = client_id
        self.environment = environment
        self.api_base = (api_base or ENVIRONMENTS[environment]).rstrip("/")
        self._secret = secret
        self._http = httpx.Client(base_url=self.api_base, timeout=timeout)
        self._token: str | None = None
        self._token_expires = 0.0
        self._lock = threading.Lock()

    def close(self) -> None:
        self._http.close()

    # -- OAuth2 ------------------------------------------------------------------------------

    def access_token(self) -> str:
        with self._lock:
            if self._token and time.monotonic() < self._token_expires:
                return self._token
            try:
                response = self._http.post(
                    "/v1/oauth2/token",
                    data={"grant_type": "client_credentials"},
                    auth=(self.client_id, self._secret),
                    headers={"Accept": "application/json"},
                )
            except httpx.HTTPError as err:
                raise GatewayUnavailable(
                    f"PayPal's token endpoint could not be reached ({type(err).__name__}).",
                    code="gateway_unreachable",
                ) from err
            if response.status_code in (400, 401, 403):
                raise GatewayUnavailable(
                    "PayPal refused our client id and secret.", code="gateway_auth_failed"
                )
            if response.status_code != 200:
                raise GatewayUnavailable(
                    f"PayPal's token endpoint failed (HTTP {response.status_code}).",
                    code="gateway_unreachable",
                )
            body = _json(response)
            token, expires_in = body.get("access_token"), body.get("expires_in")
            if not isinstance(token, str) or not isinstance(expires_in, int):
                raise GatewayUnavailable(
                    "PayPal's token endpoint gave no token.", code="gateway_unreachable"
                )
            self._token = token
            self._token_expires = time.monotonic() + max(expires_in - TOKEN_MARGIN_SECONDS, 0)
            return token

    def _forget_token(self, token: str) -> None:
        with self._lock:
            if self._token == token:
                self._token = None

    # -- requests ----------------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        body: dict[str, Any] | None = None,
        request_id: str | None = None,
    ) -> dict[str, Any]:
        """One API call: its JSON answer ({} for 204). `request_id` is sent as
        PayPal-Request-Id, PayPal's idempotency key: the same id replays the first answer."""
        for attempt in (1, 2):
            token = self.access_token()
            headers = {
                "Authorization": f"Bearer {token}",
                "Accept": "application/json",
                "Prefer": "return=representation",
            }
            if request_id:
                headers["PayPal-Request-Id"] = request_id
            content = None
            if body is not None:
                headers["Content-Type"] = "application/json"
                content = json.dumps(body, separators=(",", ":"))
            try:
                response = self._http.request(method, path, headers=headers, content=content)
            except httpx.HTTPError as err:
                raise _connection_error(err) from err
            if response.status_code == 401 and attempt == 1:
                self._forget_token(token)  # expired or revoked early: one more, with a new one
                continue
            return self._answer(response, method, path)
        raise AssertionError("unreachable")

    def _answer(self, response: httpx.Response, method: str, path: str) -> dict[str, Any]:
        status = response.status_code
        if 200 <= status < 300:
            return _json(response) if response.content else {}
        debug_id = response.headers.get("paypal-debug-id")
        log.info("paypal %s %s -> %s (debug id %s)", method, path, status, debug_id)
        if status in (401, 403):
            raise GatewayUnavailable("PayPal refused our credentials.", code="gateway_auth_failed")
        if status == 429:
            raise GatewayUnavailable("PayPal is rate limiting us.", code="gateway_rate_limited")
        if status >= 500:
            raise GatewayUnavailable(
                f"PayPal failed (HTTP {status}); the outcome is unknown.", code="gateway_error"
            )
        try:
            error = response.json()
        except ValueError:
            error = {}
        if not isinstance(error, dict):
            error = {}
        details = error.get("details") if isinstance(error.get("details"), list) else []
        first = details[0] if details and isinstance(details[0], dict) else {}
        raise PayPalError(
            status=status,
            name=str(error.get("name") or "INVALID_REQUEST"),
            issue=first.get("issue") if isinstance(first.get("issue"), str) else None,
            message=str(first.get("description") or error.get("message") or "PayPal refused"),
            debug_id=error.get("debug_id") or debug_id,
        )


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError as err:
        raise GatewayUnavailable(
            "PayPal answered with something that is not JSON; the outcome is unknown.",
            code="gateway_error",
        ) from err
    if not isinstance(body, dict):
        raise GatewayUnavailable(
            "PayPal answered with an unexpected body; the outcome is unknown.",
            code="gateway_error",
        )
    return body


def _connection_error(err: httpx.HTTPError) -> GatewayUnavailable:
    """Whether PayPal may have acted: never when the connection was not made."""
    if isinstance(err, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout):
        return GatewayUnavailable("PayPal could not be reached.", code="gateway_unreachable")
    if isinstance(err, httpx.TimeoutException):
        return GatewayUnavailable(
            "PayPal did not answer in time; the outcome is unknown.", code="gateway_timeout"
        )
    return GatewayUnavailable(
        "The connection to PayPal was lost; the outcome is unknown.",
        code="gateway_connection_lost",
    )
