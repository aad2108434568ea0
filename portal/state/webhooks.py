"""Developers, Webhooks: endpoints, their signing secrets, the delivery log and redelivery."""

from __future__ import annotations

import asyncio
import json

import reflex as rx

from backend.core.errors import ServiceError
from backend.services import labels
from backend.services.events import EVENT_TYPES
from backend.services.identity import permissions
from backend.services.identity.permissions import Permission
from backend.services.identity.step_up import StepUpRequired
from backend.services.merchant import developers, webhook_pages
from backend.services.webhooks.outbound import deliveries, endpoints, signing
from backend.services.webhooks.outbound import urls as webhook_urls
from portal.state.api_keys import when
from portal.state.auth import AuthState
from portal.state.live_feed import client_connected
from portal.state.step_up import step_up_then
from portal.state.webhook_rows import attempt_row, delivery_row, endpoint_row

OVERLAP_CHOICES = {"now": 0, "1h": 1, "24h": 24, "7d": 168}
REFRESH_SECONDS = 3.0  # an open delivery log reads itself again this often


class WebhooksState(AuthState):
    endpoints: list[dict[str, str]] = []
    loaded: bool = False
    can_manage: bool = False
    error: str = ""
    create_open: bool = False
    all_events: bool = True
    chosen: list[str] = []
    new_secret: str = ""
    local_urls: bool = False  # this mode accepts http://localhost endpoints here

    @rx.var
    def event_types(self) -> list[str]:
        return list(EVENT_TYPES)

    @rx.event
    def load(self):  # type: ignore[no-untyped-def]
        self.new_secret = self.error = ""
        self.create_open = False
        ctx = self._load_context()
        if ctx is None:
            return AuthState.require_session
        self.can_manage = permissions.can(ctx.role, Permission.MANAGE_WEBHOOKS)
        self.local_urls = webhook_urls.loopback_allowed(ctx.livemode)
        try:
            found = webhook_pages.list_endpoints(ctx)
        except ServiceError as exc:
            self.endpoints, self.error, self.loaded = [], exc.message, True
            return None
        tz = webhook_pages.merchant_timezone(ctx)
        self.endpoints = [endpoint_row(e, tz) for e in found]
        self.loaded = True
        return None

    @rx.event
    def set_create_open(self, value: bool) -> None:
        self.create_open, self.error = value, ""
        self.all_events, self.chosen = True, []

    @rx.event
    def set_all_events(self, value: bool) -> None:
        self.all_events = bool(value)

    @rx.event
    def toggle_event(self, event_type: str, on: bool) -> None:
        if event_type not in EVENT_TYPES:
            return
        chosen = [e for e in self.chosen if e != event_type]
        self.chosen = sorted([*chosen, event_type]) if on else chosen

    @rx.event
    def create(self, form: dict[str, str]):  # type: ignore[no-untyped-def]
        ctx = self._load_context()
        if ctx is None:
            return AuthState.require_session
        url = str(form.get("url", ""))[:2100].strip()
        description = str(form.get("description", ""))[:400]
        events = ["*"] if self.all_events else list(self.chosen)
        try:
            created = webhook_pages.create_endpoint(
                ctx, url=url, enabled_events=events, description=description or None
            )
        except StepUpRequired:
            self.create_open = False
            return step_up_then(
                WebhooksState.create,
                "Add a live webhook endpoint",
                form={"url": url, "description": description},
            )
        except ServiceError as exc:
            self.error = exc.message
            return None
        self.create_open = False
        return [
            rx.redirect(f"/developers/webhooks/{created.endpoint.id}"),
            WebhookEndpointState.show_secret(created.secret),
        ]


class WebhookEndpointState(AuthState):
    endpoint: dict[str, str] = {}
    deliveries: list[dict[str, str]] = []
    next_cursor: str = ""
    not_found: bool = False
    loaded: bool = False
    can_manage: bool = False
    error: str = ""
    notice: str = ""
    new_secret: str = ""
    roll_open: bool = False
    overlap: str = "24h"
    delete_open: bool = False
    # The delivery opened in the log: its payload and attempts; its technical detail shown.
    selected: dict[str, str] = {}
    selected_attempts: list[dict[str, str]] = []
    technical_open: bool = False
    _tz: str = "UTC"
    _watch: int = 0  # the running refresh loop's number; a newer loop replaces it

    @rx.event
    def show_secret(self, secret: str) -> None:
        """The secret of an endpoint just created, carried over to its page (shown once)."""
        self.new_secret = secret if secret.startswith(endpoints.SECRET_PREFIX) else ""

    def _endpoint_id(self) -> str:
        return str(self.router.page.params.get("endpoint_id", ""))[:64]

    @rx.event
    def load(self):  # type: ignore[no-untyped-def]
        self.loaded, self.error, self.notice = False, "", ""
        self.selected, self.selected_attempts, self.technical_open = {}, [], False
        self.roll_open = self.delete_open = False
        return self._fill(keep_secret=True)

    def _fill(self, *, keep_secret: bool = False):  # type: ignore[no-untyped-def]
        ctx = self._load_context()
        if ctx is None:
            return AuthState.require_session
        if not keep_secret:
            self.new_secret = ""
        self.can_manage = permissions.can(ctx.role, Permission.MANAGE_WEBHOOKS)
        self._tz = webhook_pages.merchant_timezone(ctx)
        try:
            log = developers.read_endpoint_log(ctx, self._endpoint_id())
        except ServiceError:
            self.not_found, self.loaded = True, True
            self.endpoint, self.deliveries = {}, []
            return None
        self.not_found = False
        self._show_log(log)
        self.next_cursor = log.next_cursor or ""
        self.loaded = True
        return None

    def _show_log(self, log: developers.EndpointLog) -> None:
        self.endpoint = endpoint_row(log.endpoint, self._tz)
        self.deliveries = [delivery_row(x, self._tz) for x in log.deliveries]

    @rx.event(background=True)
    async def watch_log(self):  # type: ignore[no-untyped-def]
        """Keep the open delivery log current: read it again every REFRESH_SECONDS while this
        tab shows this endpoint; stop when it leaves, closes, or a newer loop starts."""
        async with self:
            self._watch += 1
            mine, endpoint_id = self._watch, self._endpoint_id()
            token = self.router.session.client_token
        while True:
            await asyncio.sleep(REFRESH_SECONDS)
            if not client_connected(token):
                return
            async with self:
                if self._watch != mine or self._endpoint_id() != endpoint_id or self.not_found:
                    return
                ctx = self._load_context()
                shown, selected = max(20, len(self.deliveries)), self.selected.get("id", "")
            if ctx is None:
                return
            try:
                log = await asyncio.to_thread(
                    developers.read_endpoint_log, ctx, endpoint_id, limit=shown
                )
                detail = (
                    await asyncio.to_thread(developers.read_delivery_detail, ctx, selected)
                    if selected
                    else None
                )
            except ServiceError:
                continue  # deleted, or another mode: the next action says so
            async with self:
                if self._watch != mine or self._endpoint_id() != endpoint_id:
                    return
                self._show_log(log)
                self.next_cursor = log.next_cursor or ""
                if detail is not None and self.selected.get("id") == selected:
                    self._show_detail(detail)

    @rx.event
    def load_more(self):  # type: ignore[no-untyped-def]
        ctx = self._load_context()
        if ctx is None:
            return AuthState.require_session
        try:
            page = webhook_pages.more_deliveries(ctx, self._endpoint_id(), self.next_cursor or None)
        except ServiceError as exc:
            self.error = exc.message
            return None
        self.deliveries = [
            *self.deliveries,
            *(delivery_row(x, self._tz) for x in page.deliveries),
        ]
        self.next_cursor = page.next_cursor or ""
        return None

    @rx.event
    def open_delivery(self, delivery_id: str):  # type: ignore[no-untyped-def]
        ctx = self._load_context()
        if ctx is None:
            return AuthState.require_session
        if self.selected.get("id") == delivery_id:
            self.selected, self.selected_attempts = {}, []
            return None
        try:
            detail = developers.read_delivery_detail(ctx, delivery_id[:64])
        except ServiceError as exc:
            self.error = exc.message
            return None
        self.technical_open = False
        self._show_detail(detail)
        return None

    def _show_detail(self, detail: deliveries.DeliveryDetail) -> None:
        body = json.loads(signing.event_body(detail.event))
        state = deliveries.delivery_state(detail.delivery)
        self.selected = {
            "id": detail.delivery.id,
            "status": state.status,
            "status_label": labels.status(state.status),
            "payload": json.dumps(body, indent=2, ensure_ascii=False),
            "next": when(state.next_attempt_at, self._tz) if state.next_attempt_at else "",
        }
        self.selected_attempts = [attempt_row(a, self._tz) for a in detail.attempts]

    @rx.event
    def toggle_technical(self) -> None:
        self.technical_open = not self.technical_open

    @rx.event
    def redeliver(self, delivery_id: str):  # type: ignore[no-untyped-def]
        ctx = self._load_context()
        if ctx is None:
            return AuthState.require_session
        try:
            webhook_pages.redeliver(ctx, delivery_id[:64])
        except ServiceError as exc:
            self.error = exc.message
            return None
        self.notice, self.error = "Redelivery queued: the log shows the new attempt.", ""
        self.selected, self.selected_attempts = {}, []
        return self._fill(keep_secret=True)

    @rx.event
    def send_test(self):  # type: ignore[no-untyped-def]
        ctx = self._load_context()
        if ctx is None:
            return AuthState.require_session
        try:
            webhook_pages.send_test_event(ctx, self._endpoint_id())
        except ServiceError as exc:
            self.error = exc.message
            return None
        self.notice, self.error = "A webhook.test event was sent.", ""
        return self._fill(keep_secret=True)

    @rx.event
    def set_enabled(self, enabled: bool):  # type: ignore[no-untyped-def]
        ctx = self._load_context()
        if ctx is None:
            return AuthState.require_session
        try:
            webhook_pages.set_endpoint_enabled(ctx, self._endpoint_id(), bool(enabled))
        except ServiceError as exc:
            self.error = exc.message
            return None
        self.notice = "Endpoint enabled." if enabled else "Endpoint disabled: it receives nothing."
        return self._fill(keep_secret=True)

    @rx.event
    def set_roll_open(self, value: bool) -> None:
        self.roll_open, self.overlap = value, "24h"

    @rx.event
    def choose_overlap(self, value: str) -> None:
        if value in OVERLAP_CHOICES:
            self.overlap = value

    @rx.event
    def roll_secret(self, endpoint_id: str, overlap: str):  # type: ignore[no-untyped-def]
        ctx = self._load_context()
        if ctx is None:
            return AuthState.require_session
        hours = OVERLAP_CHOICES.get(overlap, 24)
        try:
            rolled = webhook_pages.roll_endpoint_secret(ctx, endpoint_id[:64], hours)
        except StepUpRequired:
            self.roll_open = False
            return step_up_then(
                WebhookEndpointState.roll_secret,
                "Roll the signing secret",
                endpoint_id=endpoint_id,
                overlap=overlap,
            )
        except ServiceError as exc:
            self.error, self.roll_open = exc.message, False
            return None
        self.roll_open = False
        self._fill()
        self.new_secret = rolled.secret
        return None

    @rx.event
    def dismiss_secret(self, value: bool = False) -> None:
        if not value:
            self.new_secret = ""

    @rx.event
    def set_delete_open(self, value: bool) -> None:
        self.delete_open = value

    @rx.event
    def delete(self):  # type: ignore[no-untyped-def]
        ctx = self._load_context()
        if ctx is None:
            return AuthState.require_session
        try:
            webhook_pages.delete_endpoint(ctx, self._endpoint_id())
        except ServiceError as exc:
            self.error, self.delete_open = exc.message, False
            return None
        self.delete_open = False
        return rx.redirect("/developers/webhooks")
