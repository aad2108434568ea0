"""Merchants' secret API keys: `sk_test_...` / `sk_live_...`, shown once, stored as a digest."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import or_, update
from sqlmodel import Session, select

from backend.ids import new_id
from backend.models import ApiKey, Merchant, utcnow
from backend.models.enums import ActorType, MerchantStatus
from backend.services import audit
from backend.services.errors import AuthenticationFailed
from backend.services.security import random_token, token_digest

_PURPOSE = "api_key"
# Writing last_used_at on every request would turn each read into a write; once a minute is
# enough to tell merchants which keys are in use.
_LAST_USED_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True)
class IssuedKey:
    api_key: ApiKey
    secret: str  # shown to the merchant once, never stored


@dataclass(frozen=True)
class KeyContext:
    merchant_id: str
    livemode: bool
    api_key_id: str
    # The stored last-use time is older than the resolution: call `touch` (in a write unit).
    stale_last_used: bool = False


def issue_key(
    db: Session,
    merchant_id: str,
    *,
    livemode: bool = False,
    name: str = "Default",
    created_by_user_id: str | None = None,
) -> IssuedKey:
    secret = f"sk_{'live' if livemode else 'test'}_{random_token(32)}"
    key = ApiKey(
        id=new_id("key"),
        merchant_id=merchant_id,
        livemode=livemode,
        name=name,
        display_prefix=secret[:12],
        last4=secret[-4:],
        digest=token_digest(secret, purpose=_PURPOSE),
        created_by_user_id=created_by_user_id,
    )
    db.add(key)
    audit.record(
        db,
        action="api_key.created",
        merchant_id=merchant_id,
        livemode=livemode,
        actor_type=ActorType.USER if created_by_user_id else ActorType.SYSTEM,
        actor_id=created_by_user_id,
        object_type="api_key",
        object_id=key.id,
        details={"name": name},
    )
    return IssuedKey(key, secret)


def authenticate(db: Session, secret: str) -> KeyContext:
    """The merchant and mode a bearer key speaks for, or AuthenticationFailed."""
    if not secret.startswith(("sk_test_", "sk_live_")) or len(secret) > 100:
        raise AuthenticationFailed(
            "Invalid API key: expected a secret key (sk_test_... or sk_live_...)"
        )
    row = db.exec(
        select(ApiKey, Merchant.status)
        .join(Merchant, Merchant.id == ApiKey.merchant_id)
        .where(ApiKey.digest == token_digest(secret, purpose=_PURPOSE))
    ).first()
    now = utcnow()
    if row is None:
        raise AuthenticationFailed("Invalid API key")
    key, merchant_status = row
    if key.revoked_at is not None or (key.expires_at is not None and key.expires_at <= now):
        raise AuthenticationFailed("This API key has been revoked or has expired")
    if merchant_status != MerchantStatus.ACTIVE:
        raise AuthenticationFailed("This merchant account is not active")
    stale = key.last_used_at is None or now - key.last_used_at > _LAST_USED_RESOLUTION
    return KeyContext(key.merchant_id, key.livemode, key.id, stale_last_used=stale)


def touch(db: Session, api_key_id: str) -> None:
    """Record that a key was used just now (at most once per resolution period)."""
    now = utcnow()
    db.execute(
        update(ApiKey)
        .where(
            ApiKey.id == api_key_id,
            or_(
                ApiKey.last_used_at.is_(None),  # type: ignore[union-attr]
                ApiKey.last_used_at < now - _LAST_USED_RESOLUTION,  # type: ignore[operator]
            ),
        )
        .values(last_used_at=now)
    )
