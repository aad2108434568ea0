"""Disputes: the list with deadlines, and one dispute with its evidence and response."""

from __future__ import annotations

import reflex as rx

from backend.core.currency import format_money
from backend.core.errors import ServiceError
from backend.services import labels
from backend.services.identity.permissions import Permission
from backend.services.payments import dispute_evidence, portal_actions
from portal.state.auth import AuthState
from portal.state.formatting import when
from portal.state.keyset_list import KeysetListState
from portal.state.viewer import Viewer, current_viewer

ALL = "all"
STATUS_CHOICES = [ALL, *dispute_evidence.STATUSES]
UPLOAD_ID = "evidence"


def _size(n: int) -> str:
    return f"{n / 1024:.0f} KB" if n < 1024 * 1024 else f"{n / (1024 * 1024):.1f} MB"


class DisputesState(KeysetListState, AuthState):
    status: str = ALL
    open_count: int = 0

    @rx.event
    def choose_status(self, value: str):  # type: ignore[no-untyped-def]
        self.status = value if value in STATUS_CHOICES else ALL
        return self._search(reset=True)

    def _fetch_page(
        self, viewer: Viewer, *, cursor: str | None, reset: bool
    ) -> tuple[list[dict[str, str]], str | None]:
        listed = portal_actions.dispute_list(
            viewer.ctx, status=None if self.status == ALL else self.status, cursor=cursor
        )
        page, self.open_count = listed.page, listed.open_count
        found = [
            {
                "id": r.dispute.id,
                "amount": format_money(r.dispute.amount, r.dispute.currency, viewer.locale),
                "status": r.dispute.status,
                "status_label": labels.status(r.dispute.status),
                "reason": labels.dispute_reason(r.dispute.reason),
                "customer": r.customer_email or "—",
                "due": when(r.dispute.evidence_due_by, viewer.timezone, viewer.locale),
                "days_left": dispute_evidence.days_left(
                    r.dispute.evidence_due_by, r.dispute.status
                ),
            }
            for r in page.rows
        ]
        return found, page.next_cursor


class DisputeDetailState(AuthState):
    dispute: dict[str, str] = {}
    files: list[dict[str, str]] = []
    explanation: str = ""
    submitted: str = ""
    can_respond: bool = False
    can_manage: bool = False
    not_found: bool = False
    loaded: bool = False
    error: str = ""
    notice: str = ""
    uploading: bool = False
    _dispute_id: str = ""

    @rx.event
    def load(self):  # type: ignore[no-untyped-def]
        self.loaded = False
        self.error = self.notice = ""
        self._dispute_id = str(self.router.page.params.get("dispute_id", ""))[:64]
        return self._reload()

    def _reload(self):  # type: ignore[no-untyped-def]
        viewer = current_viewer(self)
        if viewer is None:
            return AuthState.require_session
        try:
            detail = portal_actions.dispute_detail(viewer.ctx, self._dispute_id)
        except ServiceError:
            self.not_found = self.loaded = True
            self.dispute, self.files = {}, []
            return None
        d, p = detail.dispute, detail.payment
        self.not_found = False
        self.dispute = {
            "id": d.id,
            "amount": format_money(d.amount, d.currency, viewer.locale),
            "status": d.status,
            "status_label": labels.status(d.status),
            "reason": labels.dispute_reason(d.reason),
            "opened": when(d.created_at, viewer.timezone, viewer.locale),
            "due": when(d.evidence_due_by, viewer.timezone, viewer.locale),
            "days_left": dispute_evidence.days_left(d.evidence_due_by, d.status),
            "payment_id": p.id,
            "payment_amount": format_money(p.amount, p.currency, viewer.locale),
            "customer": p.customer_email or "—",
        }
        self.files = [
            {
                "id": f.id,
                "name": f.filename,
                "kind": f.content_type.split("/")[1].upper(),
                "size": _size(f.size_bytes),
                "url": f"/api/portal/disputes/{d.id}/evidence/{f.id}",
            }
            for f in detail.files
        ]
        if not self.explanation or detail.response is not None:
            self.explanation = detail.response.explanation if detail.response else ""
        self.submitted = (
            when(detail.response.submitted_at, viewer.timezone, viewer.locale)
            if detail.response and detail.response.submitted_at
            else ""
        )
        self.can_manage = viewer.can(Permission.MANAGE_DISPUTES)
        self.can_respond = detail.can_respond and self.can_manage
        self.loaded = True
        return None

    @rx.event
    def set_explanation(self, value: str) -> None:
        self.explanation = value[: dispute_evidence.MAX_EXPLANATION + 1]

    @rx.event
    async def handle_upload(self, files: list[rx.UploadFile]):  # type: ignore[no-untyped-def]
        viewer = current_viewer(self)
        if viewer is None:
            return AuthState.require_session
        self.error = self.notice = ""
        if len(files) > dispute_evidence.MAX_FILES:
            self.error = f"Upload at most {dispute_evidence.MAX_FILES} files at once."
            return rx.clear_selected_files(UPLOAD_ID)
        uploads = []
        for file in files:
            # One byte past the limit is enough to refuse it; never read a huge file whole.
            data = await file.read(dispute_evidence.MAX_FILE_BYTES + 1)
            uploads.append(dispute_evidence.Upload(file.filename or "evidence", data))
        try:
            added = portal_actions.add_dispute_evidence(
                viewer.ctx, self._dispute_id, uploads, ip_address=self.router.session.client_ip
            )
        except ServiceError as exc:
            self.error = exc.message
            return rx.clear_selected_files(UPLOAD_ID)
        self.notice = f"Added {added} file{'s' if added != 1 else ''}."
        self._reload()
        return rx.clear_selected_files(UPLOAD_ID)

    @rx.event
    def remove_file(self, file_id: str):  # type: ignore[no-untyped-def]
        viewer = current_viewer(self)
        if viewer is None:
            return AuthState.require_session
        try:
            portal_actions.remove_dispute_evidence(
                viewer.ctx,
                self._dispute_id,
                str(file_id)[:40],
                ip_address=self.router.session.client_ip,
            )
        except ServiceError as exc:
            self.error = exc.message
            return None
        self.error, self.notice = "", "File removed."
        return self._reload()

    @rx.event
    def save_draft(self):  # type: ignore[no-untyped-def]
        return self._save(submit=False)

    @rx.event
    def submit_response(self):  # type: ignore[no-untyped-def]
        return self._save(submit=True)

    @rx.event
    def accept(self):  # type: ignore[no-untyped-def]
        viewer = current_viewer(self)
        if viewer is None:
            return AuthState.require_session
        try:
            portal_actions.accept_dispute(
                viewer.ctx, self._dispute_id, ip_address=self.router.session.client_ip
            )
        except ServiceError as exc:
            self.error, self.notice = exc.message, ""
            return None
        self.error = ""
        self.notice = "Dispute accepted: the customer keeps the money."
        return self._reload()

    def _save(self, *, submit: bool):  # type: ignore[no-untyped-def]
        viewer = current_viewer(self)
        if viewer is None:
            return AuthState.require_session
        try:
            portal_actions.save_dispute_response(
                viewer.ctx,
                self._dispute_id,
                self.explanation,
                submit=submit,
                ip_address=self.router.session.client_ip,
            )
        except ServiceError as exc:
            self.error, self.notice = exc.message, ""
            return None
        self.error = ""
        self.notice = (
            "Evidence submitted. The card network decides, usually within 75 days; the "
            "outcome shows here."
            if submit
            else "Draft saved."
        )
        return self._reload()
