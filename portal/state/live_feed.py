"""The live feed's fan-out: one watcher per web process for every open dashboard in it.

The watcher reads the outbox (backend/services/live_feed.py) every POLL_SECONDS for the
merchants whose dashboards are connected to this process and hands each change to their
queues; each dashboard's background event waits on its queue and pushes the row to its
browser over the existing websocket. So the database sees one small query per process and
interval however many browsers watch, nothing at all when no dashboard is open, and changes
made by any process (API, checkout, the webhook worker) reach every dashboard. It needs no
Redis: with several workers each runs its own watcher for its own sockets.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from datetime import datetime

from backend.db import session_scope
from backend.models import Payment, utcnow
from backend.services import live_feed

log = logging.getLogger(__name__)
POLL_SECONDS = 0.25


@dataclass(eq=False)
class Subscription:
    merchant_id: str
    livemode: bool
    queue: asyncio.Queue[Payment] = field(default_factory=lambda: asyncio.Queue(maxsize=200))


class Hub:
    def __init__(self) -> None:
        self._subscriptions: set[Subscription] = set()
        self._watching: set[str] = set()  # client tokens with a running feed in this process
        self._task: asyncio.Task[None] | None = None
        self._seen: dict[str, datetime] = {}

    def claim(self, client_token: str) -> bool:
        """True if this browser tab had no feed running here (one feed per tab)."""
        if client_token in self._watching:
            return False
        self._watching.add(client_token)
        return True

    def release(self, client_token: str) -> None:
        self._watching.discard(client_token)

    def subscribe(self, merchant_id: str, livemode: bool) -> Subscription:
        subscription = Subscription(merchant_id, livemode)
        self._subscriptions.add(subscription)
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._watch(), name="live-feed-watcher")
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        self._subscriptions.discard(subscription)

    def _read(self, scopes: set[tuple[str, bool]], since: datetime) -> list:
        with session_scope(readonly=True) as db:
            return live_feed.payment_changes(db, scopes, since=since)

    async def _watch(self) -> None:
        primed: set[tuple[str, bool]] = set()
        while self._subscriptions:
            scopes = {(s.merchant_id, s.livemode) for s in self._subscriptions}
            now = utcnow()
            try:
                changes = await asyncio.to_thread(self._read, scopes, now - live_feed.LOOKBACK)
            except Exception:  # a database hiccup must not end every dashboard's feed
                log.exception("live feed: reading the outbox failed")
                await asyncio.sleep(POLL_SECONDS * 4)
                continue
            for change in changes:
                if change.event_id in self._seen:
                    continue
                self._seen[change.event_id] = change.event_at
                key = (change.payment.merchant_id, change.payment.livemode)
                if key not in primed:
                    continue  # already on screen when the feed started
                for sub in list(self._subscriptions):
                    if (sub.merchant_id, sub.livemode) == key:
                        with contextlib.suppress(asyncio.QueueFull):
                            sub.queue.put_nowait(change.payment)
            primed |= scopes
            horizon = now - 2 * live_feed.LOOKBACK
            self._seen = {k: v for k, v in self._seen.items() if v >= horizon}
            await asyncio.sleep(POLL_SECONDS)
        self._seen.clear()


HUB = Hub()


def client_connected(client_token: str) -> bool:
    """Whether this tab's websocket is still connected to this process."""
    from reflex.utils.prerequisites import get_and_validate_app

    namespace = get_and_validate_app().app.event_namespace
    return namespace is not None and client_token in namespace.token_to_sid
