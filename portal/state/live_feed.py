"""The live feed's fan-out: one watcher per web process for every open dashboard in it.

The watcher reads the outbox (backend/services/live_feed.py) every POLL_SECONDS for the
merchants whose dashboards are connected to this process and hands each change to their
queues; each dashboard's background event waits on its queue and pushes the row to its
browser over the existing websocket. So the database sees one small query per process and
interval however many browsers watch, nothing at all when no dashboard is open, and changes
made by any process (API, checkout, the webhook worker) reach every dashboard. It needs no
Redis: with several workers each runs its own watcher for its own sockets.

One feed per browser tab: when a tab subscribes again (its websocket came back and the page
loaded anew), the new subscription replaces the old one, whose feed then stops.

The dashboards' figures follow the feed, recomputed through the reporting service; tabs that
show the same figures share one read (`Hub.figures`), so a burst of payments costs one
recomputation per selection and interval, not one per open tab.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from backend.services.reporting import live_feed

log = logging.getLogger(__name__)
POLL_SECONDS = 0.25


@dataclass(eq=False)
class Subscription:
    client_token: str
    merchant_id: str
    livemode: bool
    # Payments as they change; None once a newer subscription of the same tab replaced this.
    queue: asyncio.Queue[Any] = field(  # payments; None closes
        default_factory=lambda: asyncio.Queue(maxsize=200)
    )
    # Set when a read of the outbox that began after this subscribed has been handed out:
    # from then on every change reaches the queue, and anything earlier is in the database
    # for the subscriber's own catch-up read.
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    ended: bool = False

    def end(self) -> None:
        self.ended = True
        with contextlib.suppress(asyncio.QueueFull):
            self.queue.put_nowait(None)


@dataclass
class _Read:
    started: float  # time.monotonic() when the read began
    task: asyncio.Task[Any]


class Hub:
    def __init__(self) -> None:
        self._subscriptions: set[Subscription] = set()
        self._by_token: dict[str, Subscription] = {}  # each tab's current subscription
        self._task: asyncio.Task[None] | None = None
        self._seen: dict[str, datetime] = {}
        self._reads: dict[Hashable, _Read] = {}

    def subscribe(self, client_token: str, merchant_id: str, livemode: bool) -> Subscription:
        """This tab's feed from now on; a feed it had running here ends."""
        previous = self._by_token.pop(client_token, None)
        if previous is not None:
            self._subscriptions.discard(previous)
            previous.end()
        subscription = Subscription(client_token, merchant_id, livemode)
        self._subscriptions.add(subscription)
        self._by_token[client_token] = subscription
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._watch(), name="live-feed-watcher")
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        self._subscriptions.discard(subscription)
        if self._by_token.get(subscription.client_token) is subscription:
            del self._by_token[subscription.client_token]

    def _read(self, scopes: set[tuple[str, bool]], since: datetime) -> list:
        return live_feed.read_payment_changes(scopes, since=since)

    async def _watch(self) -> None:
        primed: set[tuple[str, bool]] = set()
        while self._subscriptions:
            watching = list(self._subscriptions)
            scopes = {(s.merchant_id, s.livemode) for s in watching}
            now = datetime.now(UTC)
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
            for sub in watching:
                sub.ready.set()
            horizon = now - 2 * live_feed.LOOKBACK
            self._seen = {k: v for k, v in self._seen.items() if v >= horizon}
            await asyncio.sleep(POLL_SECONDS)
        self._seen.clear()

    async def figures(self, key: Hashable, read: Callable[[], Any], *, not_before: float) -> Any:
        """`read()` (run in a thread), or the result of a read of the same key that began at
        or after `not_before` (time.monotonic()): open dashboards showing the same figures
        share one recomputation after a payment, and none gets figures read before it."""
        now = time.monotonic()
        self._reads = {
            k: r for k, r in self._reads.items() if not r.task.done() or r.started > now - 60
        }
        shared = self._reads.get(key)
        if (
            shared is None
            or shared.started < not_before
            or (shared.task.done() and shared.task.exception() is not None)
        ):
            shared = _Read(now, asyncio.create_task(asyncio.to_thread(read)))
            self._reads[key] = shared
        # Shielded: one tab leaving does not cancel the read the others wait for.
        return await asyncio.shield(shared.task)


HUB = Hub()


def client_connected(client_token: str) -> bool:
    """Whether this tab's websocket is still connected to this process."""
    from reflex.utils.prerequisites import get_and_validate_app

    namespace = get_and_validate_app().app.event_namespace
    return namespace is not None and client_token in namespace.token_to_sid
