"""The development mailbox: sandbox e-mails, newest first, each readable with live links."""

from __future__ import annotations

import reflex as rx

from backend.services.merchant import dev_mailbox


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
        self.messages = [
            {"id": m.id, "to": m.to, "subject": m.subject, "when": m.when, "template": m.template}
            for m in dev_mailbox.read_messages()
        ]
        self.loaded = True

    @rx.event
    def load_message(self) -> None:
        self.enabled = dev_mailbox.enabled()
        self.found, self.lines, self.meta, self.subject = False, [], {}, ""
        opened = dev_mailbox.read_message(str(self.router.page.params.get("email_id", "")))
        if opened is not None:
            self.found, self.subject = True, opened.subject
            self.meta = {"to": opened.to, "when": opened.when, "status": opened.status}
            self.lines = [[{"text": s.text, "href": s.href} for s in line] for line in opened.lines]
        self.loaded = True
