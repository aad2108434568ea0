"""Risk rules in the portal: the review and block scores, and the blocklist."""

from __future__ import annotations

import reflex as rx

from backend.core.errors import ServiceError
from backend.services.identity.permissions import Permission
from backend.services.merchant import portal_settings
from portal.state.auth import AuthState
from portal.state.formatting import when
from portal.state.viewer import current_viewer

KIND_LABELS = {
    "email": "E-mail",
    "card_fingerprint": "Card",
    "ip_address": "IP address",
    "country": "Country",
}


class RiskRulesState(AuthState):
    review_score: str = ""
    block_score: str = ""
    entries: list[dict[str, str]] = []
    can_manage: bool = False
    loaded: bool = False
    error: str = ""
    thresholds_error: str = ""
    thresholds_message: str = ""
    blocklist_error: str = ""
    blocklist_message: str = ""
    new_kind: str = "email"
    # Bumped after an entry is added: the form remounts empty (kept as typed after an error).
    form_key: int = 0

    @rx.event
    def load(self):  # type: ignore[no-untyped-def]
        self.thresholds_error = self.thresholds_message = ""
        self.blocklist_error = self.blocklist_message = self.error = ""
        return self._reload()

    def _reload(self):  # type: ignore[no-untyped-def]
        viewer = current_viewer(self)
        if viewer is None:
            return AuthState.require_session
        try:
            rules = portal_settings.risk_rules(viewer.ctx)
        except ServiceError as exc:
            self.error, self.loaded = exc.message, True
            return None
        self.review_score = str(rules.review_score)
        self.block_score = str(rules.block_score)
        self.entries = [
            {
                "id": e.id,
                "kind": KIND_LABELS.get(e.kind, e.kind),
                "value": e.value,
                "reason": e.reason,
                "added": when(e.created_at, viewer.timezone, viewer.locale),
            }
            for e in rules.blocklist
        ]
        self.can_manage = viewer.can(Permission.MANAGE_SETTINGS)
        self.loaded = True
        return None

    @rx.event
    def save_thresholds(self, form: dict[str, str]):  # type: ignore[no-untyped-def]
        viewer = current_viewer(self)
        if viewer is None:
            return AuthState.require_session
        try:
            portal_settings.save_risk_thresholds(
                viewer.ctx,
                form.get("review_score"),
                form.get("block_score"),
                ip_address=self.router.session.client_ip,
            )
        except ServiceError as exc:
            self.thresholds_error, self.thresholds_message = exc.message, ""
            return None
        self.thresholds_error = ""
        self.thresholds_message = "Saved. New payments are scored against these thresholds."
        return self._reload()

    @rx.event
    def choose_kind(self, kind: str) -> None:
        if kind in KIND_LABELS:
            self.new_kind = kind

    @rx.event
    def add_entry(self, form: dict[str, str]):  # type: ignore[no-untyped-def]
        kind = self.new_kind
        value, reason = str(form.get("value", ""))[:400], str(form.get("reason", ""))[:400]

        def add(ctx):  # type: ignore[no-untyped-def]
            entry = portal_settings.add_blocklist_entry(ctx, kind, value, reason)
            self.form_key += 1  # an empty form for the next entry
            return f"Blocked the {KIND_LABELS[entry.kind].lower()} {entry.value}."

        return self._change_blocklist(add)

    @rx.event
    def remove_entry(self, entry_id: str):  # type: ignore[no-untyped-def]
        def remove(ctx):  # type: ignore[no-untyped-def]
            entry = portal_settings.remove_blocklist_entry(ctx, str(entry_id)[:64])
            return f"Removed {entry.value} from the blocklist."

        return self._change_blocklist(remove)

    def _change_blocklist(self, act):  # type: ignore[no-untyped-def]
        """act(session context) -> the message to show; the service checks the permission."""
        viewer = current_viewer(self)
        if viewer is None:
            return AuthState.require_session
        try:
            message = act(viewer.ctx)
        except ServiceError as exc:
            self.blocklist_error, self.blocklist_message = exc.message, ""
            return None
        self.blocklist_error, self.blocklist_message = "", message
        return self._reload()
