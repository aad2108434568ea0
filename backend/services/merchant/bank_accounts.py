"""The payout bank account: connected through Plaid (or its sandbox twin), one per merchant.

Only the owner may change it (Permission.MANAGE_BANK), and only with a second factor proved in
the last few minutes: changing where the money goes is what an account takeover is after.
Every change writes an audit row and e-mails the owners, so a change nobody made is noticed.
The account number is kept encrypted and shown only by its last digits.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from backend.core import crypto
from backend.core.errors import Conflict, NotFound, ValidationFailed
from backend.core.ids import new_id
from backend.integrations import bank_link
from backend.models import BankAccount, Membership, Merchant, User, utcnow
from backend.models.enums import ActorType, Role
from backend.services import audit
from backend.services.identity import step_up
from backend.services.identity.emails import app_link, record_notice_email
from backend.services.identity.permissions import Permission, require
from backend.services.identity.sessions import SessionContext

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Change:
    account: BankAccount | None
    email_ids: list[str]  # the owners' notices, to send after commit
    released_token: tuple[str, str] | None  # (provider, access token) to give up after commit


def current(db: Session, merchant_id: str) -> BankAccount | None:
    return db.exec(
        select(BankAccount).where(
            BankAccount.merchant_id == merchant_id, col(BankAccount.removed_at).is_(None)
        )
    ).first()


def link_token(ctx: SessionContext) -> str:
    """A Plaid Link token for this person (Plaid only: the sandbox twin needs none)."""
    require(ctx.role, Permission.MANAGE_BANK)
    return bank_link.link_token(client_user_id=ctx.user_id)


def connect(
    db: Session,
    ctx: SessionContext,
    *,
    public_token: str,
    account_id: str,
    ip_address: str | None = None,
) -> Change:
    """Verify the chosen account of the item behind public_token and make it the payout
    account, replacing the current one. The caller commits, then calls `after_commit`."""
    require(ctx.role, Permission.MANAGE_BANK)
    step_up.require_fresh(db, ctx.session_id)
    item = bank_link.exchange(public_token)
    chosen = _chosen(item, account_id)
    if chosen is None:
        # Nothing will use this item: give it up now rather than keep (and pay for) it.
        after_commit(Change(None, [], (item.provider, item.access_token)))
        raise ValidationFailed(
            "Choose a checking or savings account: payouts cannot go to that account.",
            param="account_id",
        )
    merchant = _locked_merchant(db, ctx.merchant_id)
    now = utcnow()
    previous = current(db, merchant.id)
    released = _retire(db, previous, now)
    account = BankAccount(
        id=new_id("ba"),
        merchant_id=merchant.id,
        provider=item.provider,
        provider_item_id=item.item_id,
        provider_account_id=chosen.account_id,
        institution_name=item.institution_name[:200],
        account_name=chosen.name[:200],
        mask=chosen.mask[-4:],
        subtype=chosen.subtype,
        routing_number=chosen.routing_number,
        account_number_encrypted=crypto.encrypt(chosen.account_number),
        access_token_encrypted=crypto.encrypt(item.access_token),
        verified_at=now,
        verified_by=ctx.user_id,
        created_at=now,
    )
    db.add(account)
    try:
        db.flush()
    except IntegrityError as exc:  # the same item's account again: a replayed public token
        raise Conflict(
            "This bank connection was already used. Connect the bank again.",
            param="public_token",
        ) from exc
    details = {"bank": account.institution_name, "account": describe(account)}
    if previous is not None:
        details["replaced"] = f"{previous.institution_name} {describe(previous)}"
    _audit(db, ctx, "bank_account.verified", account.id, details, ip_address)
    summary = f"{account.institution_name}, {describe(account)}"
    email_ids = _tell_owners(
        db,
        merchant,
        subject="Your payout bank account changed",
        paragraph=(
            f"{ctx.email} set {summary} as the bank account that {merchant.name}'s payouts "
            "go to. It was verified through Plaid by signing in to the bank."
        ),
    )
    return Change(account, email_ids, released)


def connect_sandbox(db: Session, merchant_id: str, user_id: str) -> BankAccount:
    """Give a new merchant a verified checking account at one of the sandbox twin's banks, as
    if its owner had gone through Link (`python -m backend create-merchant --sandbox-bank`):
    test-mode payouts work at once. Only without Plaid keys, where the twin runs."""
    if bank_link.provider() != "sandbox":
        raise Conflict(
            "Sandbox bank accounts exist only without PLAID_CLIENT_ID and PLAID_SECRET: "
            "connect the bank through Link instead"
        )
    if current(db, merchant_id) is not None:
        raise Conflict("This merchant already has a bank account")
    institution = bank_link.SANDBOX_BANKS[0].institution_id
    item = bank_link.exchange(bank_link.sandbox_public_token(institution))
    chosen = next(a for a in item.accounts if a.subtype == "checking")
    account = BankAccount(
        id=new_id("ba"),
        merchant_id=merchant_id,
        provider=item.provider,
        provider_item_id=item.item_id,
        provider_account_id=chosen.account_id,
        institution_name=item.institution_name[:200],
        account_name=chosen.name[:200],
        mask=chosen.mask[-4:],
        subtype=chosen.subtype,
        routing_number=chosen.routing_number,
        account_number_encrypted=crypto.encrypt(chosen.account_number),
        access_token_encrypted=crypto.encrypt(item.access_token),
        verified_at=utcnow(),
        verified_by=user_id,
    )
    db.add(account)
    db.flush()
    audit.record(
        db,
        action="bank_account.verified",
        merchant_id=merchant_id,
        livemode=False,
        actor_type=ActorType.SYSTEM,
        object_type="bank_account",
        object_id=account.id,
        details={"bank": account.institution_name, "account": describe(account)},
    )
    return account


def remove(db: Session, ctx: SessionContext, *, ip_address: str | None = None) -> Change:
    require(ctx.role, Permission.MANAGE_BANK)
    step_up.require_fresh(db, ctx.session_id)
    merchant = _locked_merchant(db, ctx.merchant_id)
    account = current(db, merchant.id)
    if account is None:
        raise NotFound("No bank account is connected")
    released = _retire(db, account, utcnow())
    details = {"bank": account.institution_name, "account": describe(account)}
    _audit(db, ctx, "bank_account.removed", account.id, details, ip_address)
    email_ids = _tell_owners(
        db,
        merchant,
        subject="Your payout bank account was removed",
        paragraph=(
            f"{ctx.email} removed {account.institution_name}, {describe(account)}. "
            f"{merchant.name} has no bank account for payouts until one is connected again."
        ),
    )
    return Change(None, email_ids, released)


def after_commit(change: Change) -> None:
    """Give up Plaid access to a replaced account's item. Failing here costs nothing but a
    token Plaid keeps, so it is logged, not raised."""
    if change.released_token is None:
        return
    provider_name, token = change.released_token
    try:
        bank_link.remove(provider_name, token)
    except Exception:
        log.warning("could not remove a replaced item at %s", provider_name, exc_info=True)


def _chosen(item: bank_link.LinkedItem, account_id: str) -> bank_link.LinkedAccount | None:
    """The account picked in Link; Link without account selection names none, which is
    clear only when the bank has a single checking or savings account."""
    if not account_id and len(item.accounts) == 1:
        return item.accounts[0]
    return next((a for a in item.accounts if a.account_id == account_id), None)


def describe(account: BankAccount) -> str:
    return f"{account.subtype} ••{account.mask}"


def _retire(db: Session, account: BankAccount | None, now: datetime) -> tuple[str, str] | None:
    if account is None:
        return None
    token = account.access_token_encrypted
    account.removed_at, account.access_token_encrypted = now, None
    db.add(account)
    db.flush()  # before the new current account is added: one current account per merchant
    return (account.provider, crypto.decrypt(token)) if token else None


def _locked_merchant(db: Session, merchant_id: str) -> Merchant:
    """The merchant row, locked: two changes of the bank account happen one after the other."""
    merchant = db.exec(select(Merchant).where(Merchant.id == merchant_id).with_for_update()).first()
    if merchant is None:
        raise NotFound("No such merchant")
    return merchant


def _audit(
    db: Session,
    ctx: SessionContext,
    action: str,
    account_id: str,
    details: dict[str, str],
    ip_address: str | None,
) -> None:
    audit.record(
        db,
        action=action,
        merchant_id=ctx.merchant_id,
        actor_type=ActorType.USER,
        actor_id=ctx.user_id,
        object_type="bank_account",
        object_id=account_id,
        ip_address=ip_address,
        details=details,
    )


def _tell_owners(db: Session, merchant: Merchant, *, subject: str, paragraph: str) -> list[str]:
    owners = db.exec(
        select(User.email)
        .join(Membership, col(Membership.user_id) == col(User.id))
        .where(Membership.merchant_id == merchant.id, Membership.role == Role.OWNER)
    ).all()
    return [
        record_notice_email(
            db,
            to=email,
            subject=subject,
            paragraphs=[
                paragraph,
                "If you did not expect this, sign in, change your password and check the "
                f"bank account now: {app_link('/settings/bank')}",
            ],
            template="bank_account_changed",
            merchant_id=merchant.id,
        ).id
        for email in owners
    ]
