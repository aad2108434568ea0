"""Per-process caches of rarely-changing reads on the API's hot path, with a bounded staleness.

Several workers (processes) serve the API, each with its own caches and no way to hear about a
change made by another, so every entry lives at most `CACHE_TTL_SECONDS` (settings, default
2 s): a change made anywhere reaches every worker within that time, whatever code path made
it. The process that makes a change can `forget` the entry to see it at once. A value is never
shared between keys, and a load that fails caches nothing.

What is cached, and why a few seconds of staleness is acceptable for each, is said where each
cache is defined (API keys, merchants' terms, gateway configurations).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from cachetools import TTLCache
from sqlalchemy import event
from sqlalchemy.orm import Session

from backend.core.config import get_settings

V = TypeVar("V")

_ALL: list[TTLMemo[object]] = []


class TTLMemo(Generic[V]):
    """A thread-safe map from key to value, each entry loaded once per time-to-live."""

    def __init__(self, name: str, *, maxsize: int = 10_000) -> None:
        self.name = name
        self.maxsize = maxsize
        self._lock = threading.Lock()
        self._cache: TTLCache[Hashable, V] | None = None
        self._ttl: float | None = None
        _ALL.append(self)  # type: ignore[arg-type]

    def _entries(self) -> TTLCache[Hashable, V] | None:
        """The cache for the configured TTL (rebuilt when the setting changes, as in tests)."""
        ttl = get_settings().cache_ttl_seconds
        if ttl != self._ttl:
            with self._lock:
                if ttl != self._ttl:
                    self._cache = TTLCache(self.maxsize, ttl, timer=time.monotonic) if ttl else None
                    self._ttl = ttl
        return self._cache

    def get(self, key: Hashable, load: Callable[[], V]) -> V:
        entries = self._entries()
        if entries is None:
            return load()
        with self._lock:
            found = entries.get(key, _MISSING)
        if found is not _MISSING:
            return found  # type: ignore[return-value]
        # Loaded outside the lock: a slow database read must not hold up other keys. Two
        # threads may load the same key at once; both values are fresh, the last one stays.
        value = load()
        with self._lock:
            entries[key] = value
        return value

    def peek(self, key: Hashable) -> V | None:
        """The cached value, or None (never loads)."""
        entries = self._entries()
        if entries is None:
            return None
        with self._lock:
            return entries.get(key)

    def put(self, key: Hashable, value: V) -> None:
        entries = self._entries()
        if entries is not None:
            with self._lock:
                entries[key] = value

    def forget(self, key: Hashable) -> None:
        with self._lock:
            if self._cache is not None:
                self._cache.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            if self._cache is not None:
                self._cache.clear()


_MISSING = object()


def clear_all() -> None:
    """Empty every cache of this process (tests; after changes made outside the services)."""
    for memo in _ALL:
        memo.clear()


# ---------------------------------------------------------------------------------------------
# In-process invalidation: a committed ORM change to a cached row forgets its entries at once.

ALL = object()  # a key_of answer: forget every entry of the cache
_WATCHED: list[tuple[type, TTLMemo[object], Callable[[object], Hashable]]] = []
_PENDING = "ttl_cache_forget"


def forget_on_commit(model: type, memo: TTLMemo[V], key_of: Callable[[object], Hashable]) -> None:
    """When a session of this process commits an insert, update or delete of a `model` row,
    forget `key_of(row)` in `memo` (or everything, when key_of answers ALL).

    Every change path of the services goes through the ORM, so this process sees its own
    changes at once; other processes see them within the TTL. Bulk UPDATE statements are not
    seen (the TTL still bounds them).
    """
    _WATCHED.append((model, memo, key_of))  # type: ignore[arg-type]


def _after_flush(session: Session, _context: object) -> None:
    if not _WATCHED:
        return
    pending = session.info.setdefault(_PENDING, [])
    for obj in (*session.new, *session.dirty, *session.deleted):
        for model, memo, key_of in _WATCHED:
            if isinstance(obj, model):
                pending.append((memo, key_of(obj)))


# A rolled-back change leaves its entries pending: the session's next commit forgets them, which
# costs one reload and is never wrong.
def _after_commit(session: Session) -> None:
    for memo, key in session.info.pop(_PENDING, ()):
        if key is ALL:
            memo.clear()
        else:
            memo.forget(key)


event.listen(Session, "after_flush", _after_flush)
event.listen(Session, "after_commit", _after_commit)
