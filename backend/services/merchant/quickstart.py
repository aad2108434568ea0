"""The first API call a new merchant makes: a copy-paste `curl` test charge on the empty
dashboard, with a test key the member may reveal. The README's example is the same request."""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass

from sqlalchemy import exists
from sqlmodel import Session, col, select

from backend.core.config import get_settings
from backend.core.db import session_scope
from backend.models import ApiKey, Payment
from backend.services.identity import api_keys
from backend.services.identity.permissions import Permission, can
from backend.services.identity.sessions import SessionContext
from backend.services.merchant import developers

CHARGE_PATH = "/api/payments/charge"
# $10.00 with the sandbox's always-successful Visa token; no Idempotency-Key, so running the
# command again makes another payment rather than replaying the first.
CHARGE_BODY: dict[str, object] = {
    "amountCents": 1000,
    "currency": "USD",
    "paymentMethod": {"type": "card", "token": "pm_card_visa"},
}


def charge_command(base_url: str, secret: str) -> str:
    """A shell command that charges CHARGE_BODY with the key, one option per line."""
    body = json.dumps(CHARGE_BODY)
    return " \\\n  ".join(
        [
            f"curl {shlex.quote(base_url.rstrip('/') + CHARGE_PATH)}",
            f"-H {shlex.quote('Authorization: Bearer ' + secret)}",
            "-H 'Content-Type: application/json'",
            f"-d {shlex.quote(body)}",
        ]
    )


@dataclass(frozen=True)
class Quickstart:
    key_name: str
    command: str


def _newest_revealable(db: Session, merchant_id: str) -> ApiKey | None:
    keys = db.exec(
        select(ApiKey)
        .where(ApiKey.merchant_id == merchant_id, ApiKey.livemode == False)  # noqa: E712
        .order_by(col(ApiKey.created_at).desc(), col(ApiKey.id).desc())
    ).all()
    return next((key for key in keys if api_keys.revealable(key)), None)


def for_dashboard(db: Session, ctx: SessionContext) -> Quickstart | None:
    """The command for a member who can manage keys, in test mode, while the merchant has no
    test payments; None otherwise, or when no test key can be revealed (the page then points
    to the API keys page). Revealing the key is audited like any reveal."""
    if ctx.livemode or not can(ctx.role, Permission.MANAGE_API_KEYS):
        return None
    has_payments = db.exec(
        select(
            exists().where(
                col(Payment.merchant_id) == ctx.merchant_id,
                col(Payment.livemode) == False,  # noqa: E712
            )
        )
    ).one()
    if has_payments:
        return None
    key = _newest_revealable(db, ctx.merchant_id)
    if key is None:
        return Quickstart(key_name="", command="")
    secret = developers.reveal_api_key(db, ctx, key.id)
    return Quickstart(key_name=key.name, command=charge_command(get_settings().app_url, secret))


def dashboard_quickstart(ctx: SessionContext) -> Quickstart | None:
    """for_dashboard in a unit of work of its own (the reveal's audit row commits with it)."""
    with session_scope() as db:
        return for_dashboard(db, ctx)
