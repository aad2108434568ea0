"""The development mailbox: sandbox e-mails, newest first, each readable with live links."""

from __future__ import annotations

import reflex as rx

from backend.core.db import session_scope
from backend.services import labels
from backend.services.merchant import dev_mailbox


def _when(row) -> str:  # type: ignore[no-untyped-def]
    return row.created_at.strftime("%d %b %Y, %H:%M:%S UTC")


class MailboxState(rx.State):
    enabled: bool = True
    loaded: bool = False
    messages: list[dict[str, str]] = []
    subject: str = ""
    meta: dict[str, str] = {}
    lines: list[list[dict[str, str]]] = []
    found: bool = False

    @rx.event
    def load_list(self) -> None:
        self.enabled = dev_mailbox.enabled()
        self.messages = []
        if self.enabled:
            with session_scope(readonly=True) as db:
                rows = dev_mailbox.messages(db)
            self.messages = [
                {
                    "id": r.id,
                    "to": r.to_email,
                    "subject": r.subject,
                    "when": _when(r),
                    "template": labels.words(r.template),
                }
                for r in rows
            ]
        self.loaded = True

    @rx.event
    def load_message(self) -> None:
        self.enabled = dev_mailbox.enabled()
        self.found, self.lines, self.meta, self.subject = False, [], {}, ""
        if self.enabled:
            email_id = str(self.router.page.params.get("email_id", ""))
            with session_scope(readonly=True) as db:
                row = dev_mailbox.message(db, email_id)
            if row is not None:
                self.found = True
                self.subject = row.subject
                self.meta = {"to": row.to_email, "when": _when(row), "status": row.status}
                self.lines = [
                    [{"text": s.text, "href": s.href} for s in dev_mailbox.segments(line)]
                    for line in row.text_body.splitlines()
                ]
        self.loaded = True
