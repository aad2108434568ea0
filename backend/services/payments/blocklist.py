"""The merchant's blocklist: values (an e-mail, a card, an IP address, a country) whose
payments are always blocked (backend.services.payments.risk probes it on every assessment).

Adding is idempotent: the list is a set, and "make sure this value is blocked" is what a
merchant (or a retried API call, or a double click) means; adding a value that is already there
returns the existing entry unchanged. Removing by kind and value is idempotent too; removing by
entry id is a lookup, so a missing or another merchant's id is a 404.
"""

from __future__ import annotations

import re

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from backend.core.errors import NotFound, ValidationFailed
from backend.core.ids import new_id
from backend.gateways import cards
from backend.models import BlocklistEntry, Payment
from backend.models.enums import ActorType
from backend.services import audit
from backend.services.identity.accounts import normalise_email
from backend.services.payments.risk import normalise_ip
from backend.services.payments.risk_rules import BLOCKLIST_KINDS

_FINGERPRINT = re.compile(r"[A-Za-z0-9]{8,64}")
_COUNTRY = re.compile(r"[A-Z]{2}")


def normalise_blocklist_value(kind: str, value: object) -> str:
    """The stored form of a blocklist value, or ValidationFailed (param "kind" or "value")."""
    if kind not in BLOCKLIST_KINDS:
        raise ValidationFailed(
            f"The kind must be one of: {', '.join(BLOCKLIST_KINDS)}", param="kind"
        )
    if not isinstance(value, str) or not value.strip():
        raise ValidationFailed("A value to block is required", param="value")
    value = value.strip()
    if kind == "email":
        return normalise_email(value, param="value")
    if kind == "ip_address":
        try:
            return normalise_ip(value)
        except ValueError:
            raise ValidationFailed("That is not a valid IP address", param="value") from None
    if kind == "country":
        country = value.upper()
        if not _COUNTRY.fullmatch(country):
            raise ValidationFailed(
                "A country is a two-letter ISO 3166 code, such as US or GB", param="value"
            )
        return country
    # card_fingerprint. A card number pasted by mistake is turned into its fingerprint, so the
    # card is blocked and the number is never stored. Messages never repeat the value.
    try:
        number = cards.normalise_number(value)
    except ValueError:
        number = None
    if number is not None:
        if not cards.luhn_valid(number):
            raise ValidationFailed(
                "That looks like a card number but is not a valid one", param="value"
            )
        return cards.fingerprint(number)
    if not _FINGERPRINT.fullmatch(value):
        raise ValidationFailed(
            "A card fingerprint is 8 to 64 letters and digits, as shown on a payment",
            param="value",
        )
    return value


def _find_entry(db: Session, merchant_id: str, kind: str, value: str) -> BlocklistEntry | None:
    return db.exec(
        select(BlocklistEntry).where(
            BlocklistEntry.merchant_id == merchant_id,
            BlocklistEntry.kind == kind,
            BlocklistEntry.value == value,
        )
    ).first()


# What a payment offers to block, by blocklist kind: the payment's own stored values.
PAYMENT_BLOCKABLES: dict[str, str] = {
    "card_fingerprint": "card_fingerprint",
    "email": "customer_email",
    "ip_address": "ip_address",
}


def blockable_values(db: Session, payment: Payment) -> list[tuple[str, str, bool]]:
    """(kind, value, already blocked) for each value of the payment the blocklist can take."""
    found = []
    for kind, attribute in PAYMENT_BLOCKABLES.items():
        value = getattr(payment, attribute)
        if value:
            listed = _find_entry(db, payment.merchant_id, kind, value) is not None
            found.append((kind, value, listed))
    return found


def add_to_blocklist(
    db: Session,
    merchant_id: str,
    kind: str,
    value: str,
    reason: str = "",
    *,
    actor_type: ActorType = ActorType.SYSTEM,
    actor_id: str | None = None,
) -> BlocklistEntry:
    """Block a value for the merchant (idempotent), in the caller's transaction."""
    value = normalise_blocklist_value(kind, value)
    reason = (reason or "").strip()
    if len(reason) > 300:
        raise ValidationFailed("The reason is too long (300 characters at most)", param="reason")
    existing = _find_entry(db, merchant_id, kind, value)
    if existing is not None:
        return existing
    entry = BlocklistEntry(
        id=new_id("blk"), merchant_id=merchant_id, kind=kind, value=value, reason=reason
    )
    try:
        with db.begin_nested():  # a concurrent add of the same value loses only this savepoint
            db.add(entry)
    except IntegrityError:
        existing = _find_entry(db, merchant_id, kind, value)
        if existing is None:
            raise
        return existing
    audit.record(
        db,
        action="blocklist_entry.created",
        merchant_id=merchant_id,
        actor_type=actor_type,
        actor_id=actor_id,
        object_type="blocklist_entry",
        object_id=entry.id,
        details={"kind": kind, "value": value, "reason": reason},
    )
    return entry


def _remove(
    db: Session, entry: BlocklistEntry, actor_type: ActorType, actor_id: str | None
) -> None:
    db.delete(entry)
    audit.record(
        db,
        action="blocklist_entry.deleted",
        merchant_id=entry.merchant_id,
        actor_type=actor_type,
        actor_id=actor_id,
        object_type="blocklist_entry",
        object_id=entry.id,
        details={"kind": entry.kind, "value": entry.value},
    )
    db.flush()


def remove_from_blocklist(
    db: Session,
    merchant_id: str,
    kind: str,
    value: str,
    *,
    actor_type: ActorType = ActorType.SYSTEM,
    actor_id: str | None = None,
) -> bool:
    """Unblock a value (normalised as when added). False when it was not on the list."""
    entry = _find_entry(db, merchant_id, kind, normalise_blocklist_value(kind, value))
    if entry is None:
        return False
    _remove(db, entry, actor_type, actor_id)
    return True


def delete_blocklist_entry(
    db: Session,
    merchant_id: str,
    entry_id: str,
    *,
    actor_type: ActorType = ActorType.SYSTEM,
    actor_id: str | None = None,
) -> BlocklistEntry:
    """Remove one entry by id; NotFound when it is missing or another merchant's."""
    entry = db.get(BlocklistEntry, entry_id)
    if entry is None or entry.merchant_id != merchant_id:
        raise NotFound("No such blocklist entry", param="id")
    _remove(db, entry, actor_type, actor_id)
    return entry


def list_blocklist(db: Session, merchant_id: str, kind: str | None = None) -> list[BlocklistEntry]:
    """The merchant's entries, newest first, optionally of one kind."""
    query = select(BlocklistEntry).where(BlocklistEntry.merchant_id == merchant_id)
    if kind is not None:
        query = query.where(BlocklistEntry.kind == kind)
    return list(db.exec(query.order_by(BlocklistEntry.created_at.desc())))  # type: ignore[attr-defined]
