"""Cache headers for the built frontend.

Vite names every file under /assets/ after a hash of its content, so a browser may keep it for
a year without asking again: a new build changes the names. Pages (HTML) and everything else
keep the default (validated with ETag / Last-Modified on each visit), so a deploy is seen at once.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

IMMUTABLE = b"public, max-age=31536000, immutable"


def immutable_assets(app: ASGIApp) -> ASGIApp:
    """Wrap the app so successful GETs of /assets/* are cacheable for a year."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/assets/"):
            await app(scope, receive, send)
            return

        async def send_with_cache(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] in (200, 304):
                headers = [(k, v) for k, v in message.get("headers", []) if k != b"cache-control"]
                message = {**message, "headers": [*headers, (b"cache-control", IMMUTABLE)]}
            await send(message)

        await app(scope, receive, send_with_cache)

    return wrapped
