"""The signature on every outbound delivery, and the exact bytes it signs.

Stripe's scheme: `PayPortal-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>" keyed by
the endpoint's secret>`. While a rolled secret overlaps, one v1= per secret, so receivers holding
either one verify.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Sequence

from backend.models import DomainEvent

SIGNATURE_HEADER = "PayPortal-Signature"


def sign(body: bytes, secrets: Sequence[str], timestamp: int) -> str:
    """The PayPortal-Signature header: t=<timestamp>, then v1=<hex> for each secret."""
    signed = f"{timestamp}.".encode() + body
    digests = [hmac.new(s.encode(), signed, hashlib.sha256).hexdigest() for s in secrets]
    return ",".join([f"t={timestamp}", *(f"v1={d}" for d in digests)])


def event_body(event: DomainEvent) -> bytes:
    """The exact bytes POSTed (and signed) for an event; the same on every attempt."""
    payload = {
        "id": event.id,
        "type": event.type,
        "created": int(event.created_at.timestamp()),
        "livemode": event.livemode,
        "data": event.data,
    }
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
