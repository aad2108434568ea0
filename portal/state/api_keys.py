"""Developers, API keys: list, create, reveal (test keys), roll and revoke."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import reflex as rx

from backend.core.errors import ServiceError
from backend.services.identity import api_keys
from backend.services.identity.step_up import StepUpRequired
from backend.services.identity.viewers import merchant_timezone
from backend.services.merchant import api_keys_page
from portal.state.auth import AuthState
from portal.state.step_up import step_up_then

__all__ = ["GRACE_LABELS", "ApiKeysState", "merchant_timezone", "when"]

GRACE_LABELS = {"now": "Stop it now", "1h": "1 hour", "24h": "24 hours", "7d": "7 days"}


def when(value: datetime | None, timezone: str) -> str:
    """A time in the merchant's time zone, e.g. "22 Nov 2026, 14:05 CET"."""
    if value is None:
        return "—"
    try:
        zone = ZoneInfo(timezone)
    except (KeyError, ValueError):
        zone = ZoneInfo("UTC")
    return value.astimezone(zone).strftime("%d %b %Y, %H:%M %Z")


def _row(key: api_keys_page.KeyRow, tz: str) -> dict[str, str]:
    return {
        "id": key.id,
        "name": key.name,
        "masked": key.masked,
        "created": when(key.created_at, tz),
        "last_used": when(key.last_used_at, tz) if key.last_used_at else "Never",
        "status": key.status,
        "revealable": "yes" if key.revealable else "",
        "status_label": f"Expires {when(key.expires_at, tz)}"
        if key.status == "expiring"
        else key.status_label,
    }


class ApiKeysState(AuthState):
    rows: list[dict[str, str]] = []
    loaded: bool = False
    can_manage: bool = False
    error: str = ""
    create_open: bool = False
    roll_key_id: str = ""
    roll_grace: str = "24h"
    revoke_key_id: str = ""
    # A secret, shown after create or roll, or when a test key is revealed.
    new_secret: str = ""
    secret_title: str = ""
    secret_revealed: bool = False

    @rx.event
    def load(self):  # type: ignore[no-untyped-def]
        self.new_secret = self.secret_title = self.error = ""
        self.secret_revealed = False
        self.create_open, self.roll_key_id, self.revoke_key_id = False, "", ""
        return self._fill()

    @rx.event
    def reload(self):  # type: ignore[no-untyped-def]
        return self._fill()

    def _fill(self):  # type: ignore[no-untyped-def]
        ctx = self._load_context()
        if ctx is None:
            return AuthState.require_session
        self.can_manage = api_keys_page.may_manage(ctx)
        try:
            found = api_keys_page.read_keys(ctx)
        except ServiceError as exc:
            self.rows, self.error, self.loaded = [], exc.message, True
            return None
        self.rows = [_row(k, found.timezone) for k in found.keys]
        self.loaded = True
        return None

    @rx.event
    def set_create_open(self, value: bool) -> None:
        self.create_open, self.error = value, ""

    @rx.event
    def create(self, form: dict[str, str]):  # type: ignore[no-untyped-def]
        ctx = self._load_context()
        if ctx is None:
            return AuthState.require_session
        name = str(form.get("name", ""))[:200]
        try:
            issued = api_keys_page.create(ctx, name)
        except StepUpRequired:
            self.create_open = False
            return step_up_then(ApiKeysState.create, "Create a live API key", form={"name": name})
        except ServiceError as exc:
            self.error = exc.message
            return None
        self.create_open, self.secret_revealed = False, False
        self.secret_title = f"Your new key “{issued.name}”"
        self.new_secret = issued.secret
        return ApiKeysState.reload

    @rx.event
    def open_roll(self, key_id: str) -> None:
        self.roll_key_id, self.roll_grace, self.error = key_id, "24h", ""

    @rx.event
    def close_roll(self, value: bool = False) -> None:
        if not value:
            self.roll_key_id = ""

    @rx.event
    def choose_grace(self, value: str) -> None:
        if value in api_keys.ROLL_GRACE:
            self.roll_grace = value

    @rx.event
    def roll(self, key_id: str, grace: str):  # type: ignore[no-untyped-def]
        ctx = self._load_context()
        if ctx is None:
            return AuthState.require_session
        try:
            issued = api_keys_page.roll(ctx, key_id[:64], grace)
        except StepUpRequired:
            self.roll_key_id = ""
            return step_up_then(ApiKeysState.roll, "Roll this API key", key_id=key_id, grace=grace)
        except ServiceError as exc:
            self.error, self.roll_key_id = exc.message, ""
            return None
        self.roll_key_id, self.secret_revealed = "", False
        self.secret_title = f"The new secret of “{issued.name}”"
        self.new_secret = issued.secret
        return ApiKeysState.reload

    @rx.event
    def reveal(self, key_id: str):  # type: ignore[no-untyped-def]
        ctx = self._load_context()
        if ctx is None:
            return AuthState.require_session
        try:
            secret = api_keys_page.reveal(ctx, key_id[:64])
        except ServiceError as exc:
            self.error = exc.message
            return None
        name = next((row["name"] for row in self.rows if row["id"] == key_id), "this key")
        self.secret_title = f"The secret of “{name}”"
        self.new_secret, self.secret_revealed = secret, True
        return ApiKeysState.reload

    @rx.event
    def open_revoke(self, key_id: str) -> None:
        self.revoke_key_id, self.error = key_id, ""

    @rx.event
    def close_revoke(self, value: bool = False) -> None:
        if not value:
            self.revoke_key_id = ""

    @rx.event
    def revoke(self):  # type: ignore[no-untyped-def]
        ctx = self._load_context()
        if ctx is None:
            return AuthState.require_session
        try:
            api_keys_page.revoke(ctx, self.revoke_key_id)
        except ServiceError as exc:
            self.error = exc.message
        self.revoke_key_id = ""
        return ApiKeysState.reload

    @rx.event
    def dismiss_secret(self, value: bool = False) -> None:
        if not value:
            self.new_secret = self.secret_title = ""
