"""The audit log page: filters, server-side keyset pages, and the CSV export link."""

from __future__ import annotations

from urllib.parse import urlencode

import reflex as rx

from backend.core.errors import ServiceError
from backend.services import labels
from backend.services.identity import sessions
from backend.services.identity.permissions import Permission, can
from backend.services.reporting import audit_log, audit_page
from portal.state.auth import AuthState

ALL = "all"  # a select item cannot have an empty value


class AuditLogState(AuthState):
    allowed: bool = True
    loaded: bool = False
    rows: list[dict[str, str]] = []
    actor: str = ALL
    action: str = ALL
    object_type: str = ALL
    date_from: str = ""
    date_to: str = ""
    actor_choices: list[list[str]] = []
    action_choices: list[list[str]] = []  # [code, words]
    object_type_choices: list[list[str]] = []
    page: int = 1
    has_next: bool = False
    timezone: str = "UTC"
    error: str = ""
    denied_message: str = ""
    _cursors: list[str] = []  # the cursor that opened each page after the first
    _next_cursor: str | None = None

    @rx.var
    def export_href(self) -> str:
        params = {
            "actor": "" if self.actor == ALL else self.actor,
            "action": "" if self.action == ALL else self.action,
            "object_type": "" if self.object_type == ALL else self.object_type,
            "from": self.date_from,
            "to": self.date_to,
        }
        query = urlencode({k: v for k, v in params.items() if v})
        return "/api/portal/audit-log.csv" + (f"?{query}" if query else "")

    def _filters(self) -> audit_log.AuditFilters:
        return audit_log.parse_filters(
            actor="" if self.actor == ALL else self.actor,
            action="" if self.action == ALL else self.action,
            object_type="" if self.object_type == ALL else self.object_type,
            date_from=self.date_from,
            date_to=self.date_to,
        )

    def _show(self, ctx: sessions.SessionContext, cursor: str | None) -> bool:
        try:
            page = audit_page.audit_page(ctx, self._filters(), self.timezone, cursor)
        except ServiceError as exc:
            self.error = exc.message
            return False
        self.error = ""
        self.rows = [
            {
                "id": e.id,
                "when": audit_log.format_time(e.created_at, self.timezone),
                "actor": e.actor,
                "action": e.action_label,
                "object": e.object_label,
                "ip": e.ip_address or "—",
                "details": e.summary,
                "mode": "live" if e.livemode else "",
            }
            for e in page.entries
        ]
        self._next_cursor = page.next_cursor
        self.has_next = page.next_cursor is not None
        return True

    def _first_page(self):  # type: ignore[no-untyped-def]
        ctx = self._load_context()
        if ctx is None:
            return AuthState.require_session
        self.page, self._cursors = 1, []
        self._show(ctx, None)
        return None

    @rx.event
    def load(self):  # type: ignore[no-untyped-def]
        ctx = self._load_context()
        if ctx is None:
            return AuthState.require_session
        self.allowed = can(ctx.role, Permission.VIEW_AUDIT_LOG)
        self.rows, self.error = [], ""
        if not self.allowed:
            self.denied_message = (
                f"Your role ({labels.role(ctx.role)}) cannot read the audit log. "
                "Ask an owner or admin."
            )
            self.loaded = True
            return None
        found = audit_page.audit_choices(ctx)
        self.timezone, facets = found.timezone, found.facets
        self.actor_choices = [[value, label] for value, label in facets.actors]
        self.action_choices = [[a, labels.action(a)] for a in facets.actions]
        self.object_type_choices = [[t, labels.object_type(t)] for t in facets.object_types]
        self._first_page()
        self.loaded = True
        return None

    @rx.event
    def choose_actor(self, value: str):  # type: ignore[no-untyped-def]
        known = {v for v, _ in self.actor_choices}
        self.actor = value if value in known else ALL
        return self._first_page()

    @rx.event
    def choose_action(self, value: str):  # type: ignore[no-untyped-def]
        self.action = value if value in {a for a, _ in self.action_choices} else ALL
        return self._first_page()

    @rx.event
    def choose_object_type(self, value: str):  # type: ignore[no-untyped-def]
        known = {t for t, _ in self.object_type_choices}
        self.object_type = value if value in known else ALL
        return self._first_page()

    @rx.event
    def set_date_from(self, value: str):  # type: ignore[no-untyped-def]
        self.date_from = value[:10]
        return self._first_page()

    @rx.event
    def set_date_to(self, value: str):  # type: ignore[no-untyped-def]
        self.date_to = value[:10]
        return self._first_page()

    @rx.event
    def clear_filters(self):  # type: ignore[no-untyped-def]
        self.actor = self.action = self.object_type = ALL
        self.date_from = self.date_to = ""
        return self._first_page()

    @rx.event
    def next_page(self):  # type: ignore[no-untyped-def]
        ctx = self._load_context()
        if ctx is None:
            return AuthState.require_session
        if self._next_cursor is None:
            return None
        cursor = self._next_cursor
        if self._show(ctx, cursor):
            self._cursors = [*self._cursors, cursor]
            self.page += 1
        return None

    @rx.event
    def previous_page(self):  # type: ignore[no-untyped-def]
        ctx = self._load_context()
        if ctx is None:
            return AuthState.require_session
        if self.page <= 1:
            return None
        cursors = self._cursors[:-1]
        if self._show(ctx, cursors[-1] if cursors else None):
            self._cursors = cursors
            self.page -= 1
        return None
