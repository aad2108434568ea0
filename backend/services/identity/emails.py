"""The e-mails of the identity flows: one call-to-action link each, as text and as HTML.

Every e-mail is recorded in the caller's transaction (`record_email`); the caller sends it with
`backend.integrations.email.send_recorded` after commit, so no lock is held while SendGrid
answers and a rolled-back action never sends its e-mail.
"""

from __future__ import annotations

from html import escape
from urllib.parse import urlencode

from sqlmodel import Session

from backend.core.config import get_settings
from backend.integrations import email
from backend.models import OutboundEmail


def app_link(path: str, **params: str) -> str:
    base = get_settings().app_url.rstrip("/")
    return f"{base}{path}?{urlencode(params)}" if params else f"{base}{path}"


def record_link_email(
    db: Session,
    *,
    to: str,
    subject: str,
    paragraphs: list[str],
    action: str,
    url: str,
    footer: str,
    template: str,
    merchant_id: str | None = None,
) -> OutboundEmail:
    text = "\n\n".join([*paragraphs, f"{action}: {url}", footer])
    html_paragraphs = "".join(f"<p>{escape(p)}</p>" for p in paragraphs)
    html = (
        f"{html_paragraphs}"
        f'<p><a href="{escape(url, quote=True)}" style="display:inline-block;padding:10px 16px;'
        f'background:#4f46e5;color:#fff;border-radius:6px;text-decoration:none">'
        f"{escape(action)}</a></p>"
        f'<p style="color:#555;font-size:13px">Or paste this address into your browser: '
        f"{escape(url)}</p>"
        f'<p style="color:#555;font-size:13px">{escape(footer)}</p>'
    )
    return email.record_email(
        db,
        to=to,
        subject=subject,
        text=text,
        html=html,
        template=template,
        merchant_id=merchant_id,
    )


def record_notice_email(
    db: Session,
    *,
    to: str,
    subject: str,
    paragraphs: list[str],
    template: str,
    merchant_id: str | None = None,
) -> OutboundEmail:
    return email.record_email(
        db,
        to=to,
        subject=subject,
        text="\n\n".join(paragraphs),
        html="".join(f"<p>{escape(p)}</p>" for p in paragraphs),
        template=template,
        merchant_id=merchant_id,
    )
