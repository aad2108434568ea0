"""The portal's Bank account page for a signed-in member: the payout account, and connecting
or removing one through Plaid Link or its sandbox twin.

Each function opens its own unit of work around bank_accounts (which checks the owner's
permission and the step-up window); the owners' notice e-mails and the release of a replaced
Plaid item run after the change has committed.
"""

from __future__ import annotations

from dataclasses import dataclass

from backend.core.db import session_scope
from backend.integrations import bank_link, email
from backend.models import BankAccount, User
from backend.services.identity import step_up
from backend.services.identity.permissions import Permission, require
from backend.services.identity.sessions import SessionContext
from backend.services.merchant import bank_accounts


@dataclass(frozen=True)
class BankPage:
    account: BankAccount | None
    verified_by: str  # the e-mail of the member who connected it, or ""
    provider: str  # "plaid" or "sandbox"
    sandbox_choices: list[list[str]]  # [value "institution:subtype", label]


def bank_page(ctx: SessionContext) -> BankPage:
    with session_scope(readonly=True) as db:
        account = bank_accounts.current(db, ctx.merchant_id)
        by = db.get(User, account.verified_by) if account else None
    return BankPage(
        account=account,
        verified_by=by.email if by else "",
        provider=bank_link.provider(),
        sandbox_choices=[
            [f"{bank.institution_id}:{a.subtype}", f"{bank.name}: {a.name} ••{a.mask}"]
            for bank in bank_link.SANDBOX_BANKS
            for a in bank_link.sandbox_accounts(bank.institution_id)
        ],
    )


def start_connect(ctx: SessionContext) -> str | None:
    """Before Link opens: the owner's permission and a fresh second factor (StepUpRequired).
    A Plaid Link token, or None for the sandbox twin (its bank picker needs none)."""
    require(ctx.role, Permission.MANAGE_BANK)
    with session_scope(readonly=True) as db:
        step_up.require_fresh(db, ctx.session_id)
    if bank_link.provider() == "sandbox":
        return None
    return bank_accounts.link_token(ctx)


def sandbox_link(institution_id: str, subtype: str) -> tuple[str, str]:
    """What the sandbox twin's Link hands back for a chosen bank and account type: a public
    token and the account's id."""
    public_token = bank_link.sandbox_public_token(institution_id)
    return public_token, bank_link.sandbox_account_id(institution_id, subtype)


def connect(
    ctx: SessionContext, public_token: str, account_id: str, *, ip_address: str | None
) -> None:
    with session_scope() as db:
        change = bank_accounts.connect(
            db, ctx, public_token=public_token, account_id=account_id, ip_address=ip_address
        )
    _after_commit(change)


def remove(ctx: SessionContext, *, ip_address: str | None) -> None:
    with session_scope() as db:
        change = bank_accounts.remove(db, ctx, ip_address=ip_address)
    _after_commit(change)


def _after_commit(change: bank_accounts.Change) -> None:
    for email_id in change.email_ids:
        email.send_recorded(email_id)
    bank_accounts.after_commit(change)
