"""Merchants' secret API keys: `sk_test_...` / `sk_live_...`, authenticated by a digest.

A live secret is shown once and kept as a digest only. A test secret is also kept encrypted
(`crypto.encrypt`), so its owner can reveal it again: it only reaches the sandbox and test data,
and a developer needs it at hand to try the API."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import or_, update
from sqlmodel import Session, col, select

from backend.core import crypto
from backend.core.db import session_scope
from backend.core.errors import AuthenticationFailed, Conflict, NotFound, ValidationFailed
from backend.core.ids import new_id
from backend.core.security import random_token, token_digest
from backend.core.ttl_cache import ALL, TTLMemo, forget_on_commit
from backend.models import ApiKey, Merchant, utcnow
from backend.models.enums import ActorType, MerchantStatus
from backend.services import audit

_PURPOSE = "api_key"
# Writing last_used_at on every request would turn each read into a write; once a minute is
# enough to tell merchants which keys are in use.
_LAST_USED_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True)
class IssuedKey:
    api_key: ApiKey
    secret: str  # live: shown to the merchant once, never stored; test: stored encrypted


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
        secret_encrypted=None if livemode else crypto.encrypt(secret),
        created_by_user_id=created_by_user_id,
    )
    db.add(key)
    _audit(db, key, "api_key.created", created_by_user_id, {"name": name})
    return IssuedKey(key, secret)


@dataclass(frozen=True)
class _StoredKey:
    """What authentication needs to know about a key and its merchant."""

    api_key_id: str
    merchant_id: str
    livemode: bool
    revoked_at: datetime | None
    expires_at: datetime | None
    merchant_status: str
    last_used_at: datetime | None


# API keys by digest, for the REST API (`authenticate_cached`). A revoked key, or a key of a
# merchant that was suspended, keeps working at most CACHE_TTL_SECONDS (2 s by default) on
# workers that looked it up just before; an expiry (a rolled key) is checked on every request
# against the cached expiry time, so it is exact. Unknown keys are never cached: a new key
# works at once.
_KEYS: TTLMemo[_StoredKey] = TTLMemo("api_keys")


def _check_format(secret: str) -> str:
    if not secret.startswith(("sk_test_", "sk_live_")) or len(secret) > 100:
        raise AuthenticationFailed(
            "Invalid API key: expected a secret key (sk_test_... or sk_live_...)"
        )
    return token_digest(secret, purpose=_PURPOSE)


def _stored(db: Session, digest: str) -> _StoredKey:
    row = db.exec(
        select(ApiKey, Merchant.status)
        .join(Merchant, Merchant.id == ApiKey.merchant_id)
        .where(ApiKey.digest == digest)
    ).first()
    if row is None:
        raise AuthenticationFailed("Invalid API key")
    key, merchant_status = row
    return _StoredKey(
        key.id,
        key.merchant_id,
        key.livemode,
        key.revoked_at,
        key.expires_at,
        merchant_status,
        key.last_used_at,
    )


def _context(key: _StoredKey, now: datetime) -> KeyContext:
    if key.revoked_at is not None or (key.expires_at is not None and key.expires_at <= now):
        raise AuthenticationFailed("This API key has been revoked or has expired")
    if key.merchant_status != MerchantStatus.ACTIVE:
        raise AuthenticationFailed("This merchant account is not active")
    stale = key.last_used_at is None or now - key.last_used_at > _LAST_USED_RESOLUTION
    return KeyContext(key.merchant_id, key.livemode, key.api_key_id, stale_last_used=stale)


def authenticate(db: Session, secret: str) -> KeyContext:
    """The merchant and mode a bearer key speaks for, or AuthenticationFailed."""
    return _context(_stored(db, _check_format(secret)), utcnow())


def authenticate_cached(secret: str) -> KeyContext:
    """`authenticate` through this process's key cache (see _KEYS for the staleness bound).

    Opens its own read-only unit of work when the key is not cached. When the answer says
    `stale_last_used`, the cached copy already counts the key as used now, so this process
    asks for one `touch` per key per minute however many requests it serves.
    """
    digest = _check_format(secret)

    def load() -> _StoredKey:
        with session_scope(readonly=True) as db:
            return _stored(db, digest)

    key = _KEYS.get(digest, load)
    now = utcnow()
    context = _context(key, now)
    if context.stale_last_used:
        _KEYS.put(digest, replace(key, last_used_at=now))
    return context


class NotCached(Exception):
    """`authenticate_cached_only` cannot answer without the database."""


def authenticate_cached_only(secret: str) -> KeyContext:
    """`authenticate_cached` when it needs no database (the key is cached and needs no
    touch), for callers that must not block; otherwise NotCached, or AuthenticationFailed."""
    key = _KEYS.peek(_check_format(secret))
    if key is None:
        raise NotCached
    context = _context(key, utcnow())
    if context.stale_last_used:
        raise NotCached
    return context


def clear_cache() -> None:
    """Forget every cached key in this process (after revoking a key, for an immediate effect
    here; other workers see it within CACHE_TTL_SECONDS)."""
    _KEYS.clear()


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


# ---------------------------------------------------------------------------------------------
# Managing keys (the portal's Developers page). A live key's secret is kept as a digest only,
# so it can be shown at creation or roll and never again; a test key's can be revealed.

MAX_NAME_LENGTH = 100
# How long a rolled key keeps working beside its replacement (the portal offers these).
ROLL_GRACE = {
    "now": timedelta(0),
    "1h": timedelta(hours=1),
    "24h": timedelta(hours=24),
    "7d": timedelta(days=7),
}


def _audit(
    db: Session, key: ApiKey, action: str, user_id: str | None, details: dict[str, object]
) -> None:
    audit.record(
        db,
        action=action,
        merchant_id=key.merchant_id,
        livemode=key.livemode,
        actor_type=ActorType.USER if user_id else ActorType.SYSTEM,
        actor_id=user_id,
        object_type="api_key",
        object_id=key.id,
        details=details,
    )


def validate_name(name: object) -> str:
    if not isinstance(name, str) or not name.strip():
        raise ValidationFailed(
            "Give the key a name, e.g. the server that will use it", param="name"
        )
    if len(name.strip()) > MAX_NAME_LENGTH:
        raise ValidationFailed(f"Key names take at most {MAX_NAME_LENGTH} characters", param="name")
    return name.strip()


def status(key: ApiKey, now: datetime | None = None) -> str:
    """active, expiring (rolled, still working until expires_at), expired or revoked."""
    now = now or utcnow()
    if key.revoked_at is not None:
        return "revoked"
    if key.expires_at is not None:
        return "expired" if key.expires_at <= now else "expiring"
    return "active"


def list_keys(db: Session, merchant_id: str, livemode: bool) -> list[ApiKey]:
    """The merchant's keys in one mode, newest first (revoked and expired ones included)."""
    query = (
        select(ApiKey)
        .where(ApiKey.merchant_id == merchant_id, ApiKey.livemode == livemode)
        .order_by(col(ApiKey.created_at).desc(), col(ApiKey.id).desc())
    )
    return list(db.exec(query).all())


def get_key(
    db: Session, merchant_id: str, livemode: bool, key_id: str, *, lock: bool = False
) -> ApiKey:
    query = select(ApiKey).where(
        ApiKey.id == key_id, ApiKey.merchant_id == merchant_id, ApiKey.livemode == livemode
    )
    found = db.exec(query.with_for_update() if lock else query).first()
    if found is None:
        raise NotFound(f"No such API key: {key_id!r}", param="keyId")
    return found


def roll_key(
    db: Session,
    merchant_id: str,
    livemode: bool,
    key_id: str,
    *,
    grace: str,
    actor_user_id: str | None = None,
) -> IssuedKey:
    """A new key with the same name; the old one keeps working for the grace period."""
    if grace not in ROLL_GRACE:
        raise ValidationFailed(f"grace must be one of {list(ROLL_GRACE)}", param="grace")
    key = get_key(db, merchant_id, livemode, key_id, lock=True)
    if status(key) not in ("active",):
        raise Conflict(
            "Only an active key can be rolled; create a new key instead", code="key_inactive"
        )
    issued = issue_key(
        db, merchant_id, livemode=livemode, name=key.name, created_by_user_id=actor_user_id
    )
    key.expires_at = utcnow() + ROLL_GRACE[grace]
    db.add(key)
    _audit(
        db, key, "api_key.rolled", actor_user_id, {"replacedBy": issued.api_key.id, "grace": grace}
    )
    return issued


def reveal_secret(
    db: Session, merchant_id: str, livemode: bool, key_id: str, *, actor_user_id: str | None
) -> str:
    """A test key's secret, again (audited); live keys and keys from before encryption refuse."""
    key = get_key(db, merchant_id, livemode, key_id)
    if key.livemode:
        raise Conflict(
            "Live secrets are shown once, when the key is created or rolled; roll the key "
            "for a new one",
            code="key_not_revealable",
        )
    if key.secret_encrypted is None:
        raise Conflict(
            "This key was created before test secrets were kept, so it cannot be shown; "
            "roll it or create a new key",
            code="key_not_revealable",
        )
    if status(key) in ("revoked", "expired"):
        raise Conflict("This key no longer works; create a new key", code="key_inactive")
    _audit(db, key, "api_key.revealed", actor_user_id, {"name": key.name})
    return crypto.decrypt(key.secret_encrypted)


def revealable(key: ApiKey) -> bool:
    """Whether `reveal_secret` would show this key (a working test key kept encrypted)."""
    return (
        not key.livemode
        and key.secret_encrypted is not None
        and status(key) in ("active", "expiring")
    )


def stored_test_secret(key: ApiKey) -> str | None:
    """A revealable key's secret for the operator's own console (the demo's announcement),
    without an audit row; None when the key cannot be revealed."""
    return (
        crypto.decrypt(key.secret_encrypted) if revealable(key) and key.secret_encrypted else None
    )


def revoke_key(
    db: Session, merchant_id: str, livemode: bool, key_id: str, *, actor_user_id: str | None
) -> ApiKey:
    """Stop a key at once (a rolled key still in its grace period too)."""
    key = get_key(db, merchant_id, livemode, key_id, lock=True)
    if key.revoked_at is not None:
        raise Conflict("This key is already revoked", code="key_revoked")
    key.revoked_at = utcnow()
    db.add(key)
    _audit(db, key, "api_key.revoked", actor_user_id, {"name": key.name})
    return key


forget_on_commit(ApiKey, _KEYS, lambda row: row.digest)  # type: ignore[attr-defined]
# A merchant's status decides whether its keys work; merchants change rarely.
forget_on_commit(Merchant, _KEYS, lambda _row: ALL)
