"""The audit log: who did what to which object. Written inside the caller's transaction."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from backend.db import new_instance, row_values
from backend.ids import new_id
from backend.models import AuditLog
from backend.models.enums import ActorType


def record(
    db: Session,
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
) -> AuditLog:
    row = AuditLog(
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
    db.add(row)
    return row


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
    """The same row as `record` writes, as column values for `backend.db.insert_rows` (the
    caller inserts it in its transaction, with the change it describes)."""
    return row_values(
        new_instance(
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
    )
