"""Who is asking, and for which merchant: the scope every service call runs in and the actor its
audit rows name. Shared by every domain, so it lives beside them rather than in one of them."""

from __future__ import annotations

from dataclasses import dataclass

from backend.models.enums import ActorType


@dataclass(frozen=True)
class Scope:
    """Whose objects a caller may see: one merchant, one mode (test or live)."""

    merchant_id: str
    livemode: bool


@dataclass(frozen=True)
class Actor:
    type: ActorType = ActorType.SYSTEM
    id: str | None = None
    ip_address: str | None = None


SYSTEM = Actor()
