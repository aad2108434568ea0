"""`python -m backend webhooks listen --merchant mer_… --forward-to http://localhost:4242/hook`

Forwards a merchant's test-mode events to a URL on this machine as they happen and prints each
attempt: time, event type, event id, the status code and latency, or why it failed and when
it is retried. It registers a temporary endpoint (services/webhooks/outbound/listener.py), so
the merchant's real endpoints still get every event, and removes it on Ctrl-C or SIGTERM.

Each turn of the loop fans out the outbox as the worker's tick does (so events arrive within
a second even with no worker running) and makes the attempts that are due for the temporary
endpoint through webhook_delivery.deliver, the production path: same signature, same retry
schedule, same log. A worker running beside it may make an attempt instead; the lease lets
only one of them send, and the listing reads the log, so it shows the attempt either way.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from datetime import datetime, timedelta
from types import FrameType
from typing import TextIO

from sqlalchemy.exc import SQLAlchemyError

from backend.models import utcnow
from backend.services.webhooks.outbound import delivery as webhook_delivery
from backend.services.webhooks.outbound import listener as webhook_listener
from backend.services.webhooks.outbound.listener import Forwarded
from backend.tasks import outbound

POLL_SECONDS = 0.5
# An attempt is logged once it is answered, under the time it started: look back further than
# the longest attempt (the delivery lease, at most 2 minutes) so none is missed.
LOOKBACK = timedelta(minutes=3)


def _clock(at: datetime) -> str:
    return at.astimezone().strftime("%Y-%m-%d %H:%M:%S")  # the developer's local time


def describe(f: Forwarded) -> str:
    """One line for one attempt, e.g.
    `2026-12-05 14:02:05  payment.succeeded  evt_…  [200] 12 ms`."""
    code = f"[{f.status_code}]" if f.status_code is not None else "[---]"
    latency = f" {f.latency_ms} ms" if f.latency_ms is not None else ""
    line = f"{_clock(f.attempted_at)}  {f.event_type}  {f.event_id}  {code}{latency}"
    if f.reason is None:
        return line
    line += f"  {f.reason}"
    if f.latest and f.state.status == "retrying" and f.state.next_attempt_at is not None:
        line += (
            f"; attempt {f.state.attempt} of {f.state.max_attempts},"
            f" next at {_clock(f.state.next_attempt_at)}"
        )
    elif f.latest and f.state.status == "failed":
        line += "; no more attempts"
    return line


def listen(
    merchant_id: str,
    forward_to: str,
    *,
    stop: threading.Event,
    events: list[str] | None = None,
    live: bool = False,
    out: TextIO = sys.stdout,
    poll_seconds: float = POLL_SECONDS,
) -> dict[str, object]:
    """Forward until `stop` is set; then remove the temporary endpoint. A summary."""
    listening = webhook_listener.start(merchant_id, forward_to, events, livemode=live)
    started = utcnow()

    def say(text: str) -> None:
        print(text, file=out, flush=True)

    say(f"Ready. Forwarding the test-mode events of {merchant_id} to {forward_to}")
    say(f"Signing secret: {listening.secret} (verify each PayPortal-Signature with it)")
    say(f"Temporary endpoint {listening.endpoint_id}: removed when you stop (Ctrl-C)")
    seen: dict[str, datetime] = {}
    try:
        while not stop.is_set():
            since = max(started, utcnow() - LOOKBACK)
            try:
                outbound.dispatch_outbox.call_local()  # what the worker's tick does
                for delivery_id in webhook_listener.due(listening):
                    webhook_delivery.deliver(delivery_id)
                forwarded = webhook_listener.attempts_since(listening, since)
            except SQLAlchemyError as exc:  # a busy or restarting database: try again
                print(f"warning: {type(exc).__name__}; trying again", file=sys.stderr)
                forwarded = []
            for f in forwarded:
                if f.attempt_id not in seen:
                    seen[f.attempt_id] = f.attempted_at
                    say(describe(f))
            seen = {k: at for k, at in seen.items() if at >= since}
            stop.wait(poll_seconds)
    finally:
        webhook_listener.stop(listening)
        say(f"Stopped. Temporary endpoint {listening.endpoint_id} removed.")
    return {"endpoint": listening.endpoint_id, "removed": True}


def run(args: argparse.Namespace) -> dict[str, object]:
    """The command: Ctrl-C or SIGTERM stops it after the attempt in progress."""
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()
        signal.signal(signal.SIGINT, signal.default_int_handler)  # a second Ctrl-C: at once

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        events = [e.strip() for e in args.events.split(",") if e.strip()] if args.events else None
        return listen(args.merchant, args.forward_to, stop=stop, events=events, live=args.live)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
