"""Security headers on every answer: the API's and, through the portal's api_transformer, every
page of the Reflex app (the portal and the hosted checkout).

- Every answer: `X-Content-Type-Options: nosniff`, a `Referrer-Policy` that never sends paths or
  ids to other sites, and `Strict-Transport-Security` in production.
- HTML: a Content-Security-Policy that forbids framing (`frame-ancestors 'none'`, plus
  `X-Frame-Options: DENY` for old browsers), plugins and foreign forms. Reflex's runtime needs
  'unsafe-inline' and 'unsafe-eval' for scripts (its event scripts run through eval); the only
  foreign origins are Stripe's Payment Element (live checkout) and Plaid Link (onboarding).
  The API reference (/api/docs) serves Swagger UI from the app itself and runs no inline
  script, so its policy is stricter still: nothing from elsewhere, no inline script.
- /api: `Cache-Control: no-store` unless the route chose its own (the public logo is cached).

A header the application already set is left alone, so wrapping twice changes nothing.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from backend.core.config import get_settings

# Stripe.js and its frames; the Payment Element's wallet buttons load from *.js.stripe.com.
_STRIPE_JS = "https://js.stripe.com https://*.js.stripe.com"
_STRIPE = f"{_STRIPE_JS} https://hooks.stripe.com"
_PLAID = "https://cdn.plaid.com"
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        f"script-src 'self' 'unsafe-inline' 'unsafe-eval' {_STRIPE_JS} {_PLAID}",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob: https://*.stripe.com",
        "font-src 'self' data:",
        "connect-src 'self' https://api.stripe.com https://*.plaid.com",
        f"frame-src {_STRIPE} {_PLAID}",
        "worker-src 'self'",
        "manifest-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
# The API reference (backend/api/docs.py) loads Swagger UI's files from the app only.
DOCS_PATH = "/api/docs"
DOCS_CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
HSTS = "max-age=63072000; includeSubDomains"


def _headers_for(path: str, content_type: bytes, production: bool) -> list[tuple[bytes, bytes]]:
    headers = [
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"strict-origin-when-cross-origin"),
    ]
    if production:
        headers.append((b"strict-transport-security", HSTS.encode()))
    if content_type.startswith(b"text/html"):
        policy = DOCS_CONTENT_SECURITY_POLICY if path == DOCS_PATH else CONTENT_SECURITY_POLICY
        headers.append((b"content-security-policy", policy.encode()))
        headers.append((b"x-frame-options", b"DENY"))
    if path == "/api" or path.startswith("/api/"):
        headers.append((b"cache-control", b"no-store"))
    return headers


def security_headers(app: ASGIApp) -> ASGIApp:
    """Wrap an ASGI app so its HTTP answers carry the headers above."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        production = get_settings().is_production

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = [(k.lower(), v) for k, v in message.get("headers", [])]
                names = {k for k, _ in present}
                content_type = dict(present).get(b"content-type", b"")
                extra = [
                    (k, v)
                    for k, v in _headers_for(scope["path"], content_type, production)
                    if k not in names
                ]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await app(scope, receive, send_with_headers)

    return wrapped


class SecurityHeaders:
    """security_headers as a Starlette middleware class (`app.add_middleware(SecurityHeaders)`)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = security_headers(app)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)
