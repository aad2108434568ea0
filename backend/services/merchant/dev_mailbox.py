"""The demo's /dev/mailbox: the e-mails the sandbox twin recorded instead of sending.

It exists only while nothing real is at stake: no SendGrid key (so nothing was really sent)
and not APP_ENV=production. It needs no sign-in, since its point is to read the links sent to
people who are not signed in (verification, password reset, invitations).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlmodel import Session, col, select

from backend.core.config import get_settings
from backend.core.db import session_scope
from backend.models import OutboundEmail
from backend.services import labels

_URL = re.compile(r"https?://[^\s<>\"']+")
PAGE = 100


def enabled() -> bool:
    settings = get_settings()
    return not settings.sendgrid_enabled and not settings.is_production


@dataclass(frozen=True)
class Segment:
    text: str
    href: str  # empty for plain text


def segments(line: str) -> list[Segment]:
    """A line of text split into plain text and links, so the page can make links clickable."""
    parts: list[Segment] = []
    position = 0
    for match in _URL.finditer(line):
        if match.start() > position:
            parts.append(Segment(line[position : match.start()], ""))
        parts.append(Segment(match.group(0), match.group(0)))
        position = match.end()
    if position < len(line) or not parts:
        parts.append(Segment(line[position:], ""))
    return parts


def messages(db: Session, limit: int = PAGE) -> list[OutboundEmail]:
    """Sandbox messages, newest first."""
    return list(
        db.exec(
            select(OutboundEmail)
            .where(OutboundEmail.provider == "sandbox")
            .order_by(col(OutboundEmail.created_at).desc(), col(OutboundEmail.id).desc())
            .limit(limit)
        )
    )


def message(db: Session, email_id: str) -> OutboundEmail | None:
    row = db.get(OutboundEmail, email_id[:40]) if email_id else None
    return row if row is not None and row.provider == "sandbox" else None


# ---------------------------------------------------------------------------------------------
# What the pages show, each read in a read-only unit of work of its own


def _when(row: OutboundEmail) -> str:
    return row.created_at.strftime("%d %b %Y, %H:%M:%S UTC")


@dataclass(frozen=True)
class Listed:
    id: str
    to: str
    subject: str
    when: str
    template: str  # in words


@dataclass(frozen=True)
class Opened:
    subject: str
    to: str
    when: str
    status: str
    lines: list[list[Segment]]  # the text body, each line split into text and links


def read_messages() -> list[Listed]:
    """The list page's messages, newest first ([] when the mailbox is off)."""
    if not enabled():
        return []
    with session_scope(readonly=True) as db:
        rows = messages(db)
    return [Listed(r.id, r.to_email, r.subject, _when(r), labels.words(r.template)) for r in rows]


def read_message(email_id: str) -> Opened | None:
    """One message with its links, or None (unknown, not a sandbox one, or the mailbox off)."""
    if not enabled():
        return None
    with session_scope(readonly=True) as db:
        row = message(db, email_id)
    if row is None:
        return None
    return Opened(
        row.subject,
        row.to_email,
        _when(row),
        row.status,
        [segments(line) for line in row.text_body.splitlines()],
    )
