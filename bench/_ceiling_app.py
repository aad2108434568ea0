"""The ceiling for bench/webhooks.py: the least an endpoint can do with a Stripe webhook.

A bare ASGI app (no framework, no middleware, no queue) that checks the HMAC of the
Stripe-Signature header (plain `hmac`, one secret), reads the event id and inserts the row into
inbound_webhook_events through the same engine and unit of work as the product (`backend.core.db`),
off the event loop as any blocking driver must be. Served by the same uvicorn, same workers.

    uvicorn bench._ceiling_app:app
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import time
from typing import Any

from sqlalchemy import text
from starlette.concurrency import run_in_threadpool

from backend.core.db import session_scope
from backend.core.ids import new_id
from backend.models import utcnow

SECRET = os.environ["STRIPE_WEBHOOK_SECRET"].split(",")[0].strip().encode()
INSERT = text(
    "INSERT INTO inbound_webhook_events (id, provider, event_id, event_type, livemode, payload,"
    " status, attempts, received_at) VALUES (:id, 'stripe', :event_id, :type, :livemode,"
    " :payload, 'pending', 0, :now) ON CONFLICT (provider, event_id) DO NOTHING"
)


def _verified(body: bytes, header: str) -> bool:
    parts = dict(item.split("=", 1) for item in header.split(",") if "=" in item)
    timestamp = parts.get("t", "")
    if not timestamp.isdigit() or int(timestamp) < time.time() - 300:
        return False
    expected = hmac.new(SECRET, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, parts.get("v1", ""))


def _insert(event: dict[str, Any], payload: str) -> None:
    with session_scope() as db:
        db.connection().execute(
            INSERT,
            {
                "id": new_id("whe"),
                "event_id": event["id"],
                "type": event["type"],
                "livemode": bool(event.get("livemode")),
                "payload": payload,
                # SQLite stores naive UTC (backend.models.types.UTCDateTime), PostgreSQL aware.
                "now": utcnow().replace(tzinfo=None)
                if db.get_bind().dialect.name == "sqlite"
                else utcnow(),
            },
        )


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    body = b""
    more = True
    while more:
        message = await receive()
        body += message.get("body", b"")
        more = message.get("more_body", False)
    status, answer = 200, b'{"received":true}'
    if scope["path"] == "/api/health":
        answer = b'{"status":"ok"}'
    else:
        header = dict(scope["headers"]).get(b"stripe-signature", b"").decode()
        if _verified(body, header):
            await run_in_threadpool(_insert, json.loads(body), body.decode())
        else:
            status, answer = 400, b'{"received":false}'
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json")],
        }
    )
    await send({"type": "http.response.body", "body": answer})
