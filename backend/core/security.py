"""Password hashing, keyed digests for high-entropy tokens, and random secrets."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string

from passlib.context import CryptContext

from backend.core.config import get_settings

# argon2 through passlib (installed from the maintained `libpass` fork). When the parameters
# here change, `needs_update` tells the sign-in path to re-hash with the new ones.
_passwords = CryptContext(schemes=["argon2"], deprecated="auto", argon2__type="ID")

_BASE62 = string.digits + string.ascii_letters


def hash_password(password: str) -> str:
    return _passwords.hash(password)


def verify_password(password: str, password_hash: str) -> tuple[bool, bool]:
    """(matches, needs_rehash)."""
    try:
        ok = _passwords.verify(password, password_hash)
    except (ValueError, TypeError):
        return False, False
    return ok, ok and _passwords.needs_update(password_hash)


# A fixed hash to verify against when the account does not exist, so a missing account
# costs the same time as a wrong password and sign-in does not reveal which e-mails exist.
_DUMMY_HASH = _passwords.hash(secrets.token_urlsafe(16))


def burn_password_check(password: str) -> None:
    _passwords.verify(password, _DUMMY_HASH)


# Random bytes below 248 (4 x 62) map onto the alphabet without bias; the rest are dropped.
_BYTE_TO_BASE62 = bytes(ord(_BASE62[b % 62]) for b in range(256))
_UNEVEN_BYTES = bytes(range(248, 256))


def random_token(length: int = 32) -> str:
    """A base62 string with length * 5.95 bits of entropy (one `secrets` call, usually)."""
    token = b""
    while len(token) < length:
        token += secrets.token_bytes(length + 8).translate(_BYTE_TO_BASE62, _UNEVEN_BYTES)
    return token[:length].decode()


def token_digest(token: str, *, purpose: str) -> str:
    """HMAC-SHA256 of a high-entropy token, keyed by the app secret and the token's purpose.

    API keys and session tokens carry 190 bits of entropy, so a fast keyed digest is as safe as
    a slow password hash and keeps authentication at a few microseconds per request.
    """
    key = hashlib.sha256(f"{purpose}:{get_settings().secret_key}".encode()).digest()
    return hmac.new(key, token.encode(), hashlib.sha256).hexdigest()
