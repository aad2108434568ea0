"""Secrets at rest (gateway credentials, webhook signing secrets): Fernet from `cryptography`.

`seal` and `unseal` are for values written on every request (stored idempotent answers):
AES-256-GCM from the same library, with a key derived from the same setting, which costs a
third of Fernet's CBC, HMAC and base64 in Python."""

from __future__ import annotations

import base64
import hashlib
import json
import os
from functools import lru_cache
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from backend.core.config import get_settings


@lru_cache
def _fernet(key: str | None, secret_key: str) -> Fernet:
    if key:
        return Fernet(key.encode())
    # No ENCRYPTION_KEY: derive one from SECRET_KEY so development needs no configuration.
    digest = hashlib.sha256(f"encryption:{secret_key}".encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


@lru_cache
def _aead(key: str | None, secret_key: str) -> AESGCM:
    material = key.encode() if key else secret_key.encode()
    return AESGCM(hashlib.sha256(b"seal:" + material).digest())


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


SEALED_PREFIX = "s1."
_NONCE_BYTES = 12


def seal(plaintext: str) -> str:
    """plaintext encrypted and authenticated (AES-256-GCM, random nonce), as text."""
    settings = get_settings()
    nonce = os.urandom(_NONCE_BYTES)
    sealed = _aead(settings.encryption_key, settings.secret_key).encrypt(
        nonce, plaintext.encode(), None
    )
    return SEALED_PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode()


def unseal(token: str) -> str:
    """What `seal` sealed; ValueError when the token is not one, or the key is wrong."""
    if not token.startswith(SEALED_PREFIX):
        raise ValueError("not a sealed value")
    settings = get_settings()
    try:
        raw = base64.urlsafe_b64decode(token[len(SEALED_PREFIX) :])
        opened = _aead(settings.encryption_key, settings.secret_key).decrypt(
            raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], None
        )
    except (InvalidTag, ValueError) as exc:  # binascii.Error is a ValueError
        raise ValueError("cannot unseal: wrong ENCRYPTION_KEY or corrupted value") from exc
    return opened.decode()
