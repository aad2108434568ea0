"""The audit log: who did what to which object. Written inside the caller's transaction."""

from __future__ import annotations

from typing import Any, Protocol

from sqlmodel import Session

from backend.core.db import new_row as db_new_row
from backend.core.ids import new_id
from backend.models import AuditLog
from backend.models.enums import ActorType
from backend.services.context import Actor


class Owned(Protocol):
    """A merchant's object: what an audit row names."""

    id: str
    merchant_id: str
    livemode: bool


def record(db: Session, **fields: Any) -> AuditLog:
    """Add an audit row (`new_row`'s arguments) to db's transaction."""
    row = AuditLog(**new_row(**fields))
    db.add(row)
    return row


def record_by(
    db: Session,
    actor: Actor,
    action: str,
    obj: Owned,
    object_type: str,
    details: dict[str, Any] | None = None,
) -> AuditLog:
    """The audit row of `actor` (with the address it acted from) doing `action` to a merchant's
    object, in db's transaction."""
    return record(
        db,
        action=action,
        merchant_id=obj.merchant_id,
        livemode=obj.livemode,
        actor_type=actor.type,
        actor_id=actor.id,
        object_type=object_type,
        object_id=obj.id,
        ip_address=actor.ip_address,
        details=details,
    )


def new_row(
    *,
    action: str,
    merchant_id: str | None,
    actor_type: ActorType = ActorType.SYSTEM,
    actor_id: str | None = None,
    object_type: str | None = None,
    object_id: str | None = None,
    livemode: bool = False,
    ip_address: str | None = None,
    details: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """An audit row's column values, for `backend.core.db.insert_rows` (the caller inserts it in
    its transaction, with the change it describes)."""
    return db_new_row(
        AuditLog,
        id=new_id("aud"),
        merchant_id=merchant_id,
        livemode=livemode,
        actor_type=actor_type,
        actor_id=actor_id,
        action=action,
        object_type=object_type,
        object_id=object_id,
        ip_address=ip_address,
        details=details or {},
    )
