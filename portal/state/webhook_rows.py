"""The webhooks pages' rows, in words for people: endpoints with their health, deliveries with
their state and why they failed, attempts with the technical detail kept apart."""

from __future__ import annotations

from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any

from backend.services import labels
from backend.services.webhooks.outbound import deliveries
from backend.services.webhooks.outbound.failures import reason
from portal.state.api_keys import when


def events_label(events: list[str]) -> str:
    return "All events" if "*" in events else ", ".join(events)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def endpoint_row(endpoint: Any, tz: str) -> dict[str, str]:
    """An endpoint with its health: failing since when, how many failures in a row, the last
    success."""
    last_success = when(endpoint.last_success_at, tz) if endpoint.last_success_at else ""
    if endpoint.consecutive_failures or endpoint.failing_since:
        health, health_label = "failing", "Failing"
        parts = [
            f"Failing since {when(endpoint.failing_since, tz)}" if endpoint.failing_since else "",
            f"{_plural(endpoint.consecutive_failures, 'consecutive failure')}",
            f"last success {last_success}" if last_success else "no success yet",
        ]
        health_detail = " · ".join(p for p in parts if p)
    elif last_success:
        health, health_label, health_detail = "healthy", "Healthy", f"Last success {last_success}"
    else:
        health, health_label, health_detail = "new", "No deliveries yet", ""
    return {
        "id": endpoint.id,
        "url": endpoint.url,
        "description": endpoint.description,
        "events": events_label(endpoint.enabled_events),
        "status": endpoint.status,
        "status_label": labels.status(endpoint.status),
        "health": health,
        "health_label": health_label,
        "health_detail": health_detail,
        "disabled_reason": endpoint.disabled_reason or "",
        "previous_expires": when(endpoint.previous_secret_expires_at, tz)
        if endpoint.previous_secret_expires_at
        else "",
        "created": when(endpoint.created_at, tz),
    }


def _soon(at: datetime, now: datetime) -> str:
    """ " (in 42 s)" or " (in 5 min)" for a time within the hour; "" otherwise."""
    seconds = max(0, int((at - now).total_seconds()))
    if seconds >= 3600:
        return ""
    return f" (in {seconds} s)" if seconds < 60 else f" (in {seconds // 60} min)"


def delivery_summary(
    state: deliveries.DeliveryState, delivered_at: datetime | None, tz: str, now: datetime
) -> str:
    """Where a delivery stands, in a phrase: "Attempt 2 of 12 failed · next try …"."""
    match state.status:
        case "pending":
            return "Waiting for its first attempt"
        case "retrying":
            at = state.next_attempt_at or now
            return (
                f"Attempt {state.attempt} of {state.max_attempts} failed · next try "
                f"{when(at, tz)}{_soon(at, now)}"
            )
        case "succeeded":
            on = f" on attempt {state.attempt}" if state.attempt > 1 else ""
            return f"Delivered{on} · {when(delivered_at, tz)}"
        case _:
            if state.attempt == 0:
                return "Not sent"
            return f"Failed after {_plural(state.attempt, 'attempt')}: no more retries"


def delivery_row(
    logged: deliveries.LoggedDelivery, tz: str, now: datetime | None = None
) -> dict[str, str]:
    d, now = logged.delivery, now or datetime.now(UTC)
    state = deliveries.delivery_state(d, now)
    return {
        "id": d.id,
        "event_type": logged.event_type,
        "status": state.status,
        "status_label": labels.status(state.status),
        "summary": delivery_summary(state, d.delivered_at, tz, now),
        "reason": state.reason or "",
        "created": when(d.created_at, tz),
    }


def _answer(status_code: int | None) -> str:
    if status_code is None:
        return "No answer"
    try:
        return f"{status_code} {HTTPStatus(status_code).phrase}"
    except ValueError:
        return str(status_code)


def attempt_row(attempt: Any, tz: str) -> dict[str, str]:
    latency = f"{attempt.latency_ms} ms" if attempt.latency_ms is not None else ""
    parts = [when(attempt.attempted_at, tz), _answer(attempt.status_code), latency]
    return {
        "line": " · ".join(p for p in parts if p),
        "reason": reason(attempt.error_code, attempt.status_code, attempt.error) or "",
        # Behind the "technical detail" toggle: the exception or refusal, the answer's start.
        "technical": attempt.error or "",
        "excerpt": (attempt.response_excerpt or "")[:300],
    }
