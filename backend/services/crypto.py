"""Secrets at rest (gateway credentials, webhook signing secrets): Fernet from `cryptography`."""

from __future__ import annotations

import base64
import hashlib
import json
from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken

from backend.config import get_settings


@lru_cache
def _fernet(key: str | None, secret_key: str) -> Fernet:
    if key:
        return Fernet(key.encode())
    # No ENCRYPTION_KEY: derive one from SECRET_KEY so development needs no configuration.
    digest = hashlib.sha256(f"encryption:{secret_key}".encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def _cipher() -> Fernet:
    settings = get_settings()
    return _fernet(settings.encryption_key, settings.secret_key)


def encrypt(plaintext: str) -> str:
    return _cipher().encrypt(plaintext.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _cipher().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise ValueError("cannot decrypt: wrong ENCRYPTION_KEY or corrupted value") from exc


def encrypt_json(value: dict[str, Any]) -> str:
    return encrypt(json.dumps(value, separators=(",", ":"), sort_keys=True))


def decrypt_json(token: str) -> dict[str, Any]:
    return json.loads(decrypt(token))
