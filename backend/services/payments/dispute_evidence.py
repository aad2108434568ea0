"""Answering disputes: the list, one dispute, evidence files and the submitted response.

Evidence files are checked by their bytes, never by the name or type a browser claims: only
PDF, PNG and JPEG are kept (their magic numbers), at most MAX_FILE_BYTES each and MAX_FILES per
dispute. They are stored under a random name in the private uploads folder (settings
`uploads_dir`, never Reflex's public upload folder) and only ever served back as a download
with the sniffed type, so an uploaded file can never run as a page on our origin.

A dispute the processor holds (it has a gateway_dispute_id: Stripe's, or the sandbox's) is
answered through the gateway of its payment, as captures and refunds are (routing): the response
is submitted, or the dispute accepted, there first, and booked only once the processor took it.
If the processor refuses or cannot be reached, the caller's transaction rolls back and nothing
changes. A dispute opened here only (the demo's) is booked without a processor.
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from backend.core.config import PROJECT_ROOT, get_settings
from backend.core.errors import Conflict, NotFound, ValidationFailed
from backend.core.ids import new_id
from backend.gateways.base import (
    DisputeEvidence,
    DisputeStage,
    DisputeState,
    EvidenceFile,
    Gateway,
    GatewayUnavailable,
)
from backend.models import Dispute, DisputeEvidenceFile, DisputeResponse, Payment, utcnow
from backend.models.enums import ActorType, DisputeStatus
from backend.services import audit, labels
from backend.services.context import SYSTEM, Actor, Scope
from backend.services.payments import booking, routing
from backend.services.payments.charges import attempt_recorder
from backend.services.payments.orders import owned

MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_FILES = 10
MAX_EXPLANATION = 5000
# Sniffed type -> (magic prefix, extension). Anything else is refused.
ACCEPTED = {
    "application/pdf": (b"%PDF-", ".pdf"),
    "image/png": (b"\x89PNG\r\n\x1a\n", ".png"),
    "image/jpeg": (b"\xff\xd8\xff", ".jpg"),
}
OPEN_STATUSES = (DisputeStatus.NEEDS_RESPONSE,)
STATUSES = tuple(s.value for s in DisputeStatus)  # the disputes list's status filter


def evidence_dir() -> Path:
    base = get_settings().uploads_dir or PROJECT_ROOT / "var" / "uploads"
    return Path(base) / "evidence"


def sniff(data: bytes) -> str | None:
    for content_type, (magic, _) in ACCEPTED.items():
        if data.startswith(magic):
            return content_type
    return None


# ---------------------------------------------------------------------------------------------
# Reads


@dataclass(frozen=True)
class DisputeRow:
    dispute: Dispute
    customer_email: str | None


@dataclass(frozen=True)
class DisputePage:
    rows: list[DisputeRow]
    next_cursor: str | None


def list_disputes(
    db: Session,
    scope: Scope,
    *,
    status: str | None = None,
    cursor: str | None = None,
    limit: int = 25,
) -> DisputePage:
    """Newest first, keyset pages; optionally one status."""
    limit = max(1, min(limit, 100))
    query = (
        select(Dispute, Payment.customer_email)
        .join(Payment, col(Payment.id) == col(Dispute.payment_id))
        .where(Dispute.merchant_id == scope.merchant_id, Dispute.livemode == scope.livemode)
    )
    if status:
        if status not in set(DisputeStatus):
            raise ValidationFailed(f"Unknown dispute status {status!r}", param="status")
        query = query.where(Dispute.status == status)
    if cursor:
        when, _, after_id = cursor.partition("|")
        try:
            after = datetime.fromisoformat(when)
        except ValueError:
            raise ValidationFailed("That page cursor is not valid", param="cursor") from None
        if after.tzinfo is None or not after_id:
            raise ValidationFailed("That page cursor is not valid", param="cursor")
        query = query.where(
            or_(Dispute.created_at < after, (Dispute.created_at == after) & (Dispute.id < after_id))
        )
    rows = [
        DisputeRow(d, email)
        for d, email in db.exec(
            query.order_by(col(Dispute.created_at).desc(), col(Dispute.id).desc()).limit(limit + 1)
        )
    ]
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1].dispute
        next_cursor = f"{last.created_at.isoformat()}|{last.id}"
    return DisputePage(rows, next_cursor)


def count_open(db: Session, scope: Scope) -> int:
    return int(
        db.exec(
            select(func.count()).where(
                Dispute.merchant_id == scope.merchant_id,
                Dispute.livemode == scope.livemode,
                col(Dispute.status).in_(OPEN_STATUSES),
            )
        ).one()
    )


@dataclass(frozen=True)
class DisputeDetail:
    dispute: Dispute
    payment: Payment
    files: list[DisputeEvidenceFile]
    response: DisputeResponse | None

    @property
    def can_respond(self) -> bool:
        return self.dispute.status == DisputeStatus.NEEDS_RESPONSE and not _past_due(self.dispute)


def days_left(due: datetime | None, status: str, now: datetime | None = None) -> str:
    """What the disputes pages show next to an open dispute's deadline; "" for the others."""
    if status != DisputeStatus.NEEDS_RESPONSE or due is None:
        return ""
    seconds = (due - (now or utcnow())).total_seconds()
    if seconds <= 0:
        return "Deadline passed"
    days = math.ceil(seconds / 86400)
    return f"{days} day{'s' if days != 1 else ''} left"


def _past_due(dispute: Dispute, now: datetime | None = None) -> bool:
    return dispute.evidence_due_by is not None and dispute.evidence_due_by < (now or utcnow())


def get_dispute(db: Session, scope: Scope, dispute_id: str, *, lock: bool = False) -> Dispute:
    return owned(db, Dispute, scope, dispute_id, param="disputeId", lock=lock)


def dispute_detail(db: Session, scope: Scope, dispute_id: str) -> DisputeDetail:
    dispute = get_dispute(db, scope, dispute_id)
    payment = db.get(Payment, dispute.payment_id)
    assert payment is not None  # a foreign key
    files = list(
        db.exec(
            select(DisputeEvidenceFile)
            .where(DisputeEvidenceFile.dispute_id == dispute.id)
            .order_by(col(DisputeEvidenceFile.created_at))
        )
    )
    response = db.exec(
        select(DisputeResponse).where(DisputeResponse.dispute_id == dispute.id)
    ).first()
    return DisputeDetail(dispute, payment, files, response)


def evidence_file(
    db: Session, scope: Scope, dispute_id: str, file_id: str
) -> tuple[DisputeEvidenceFile, Path]:
    """A stored file of one of this merchant's disputes, and where its bytes are."""
    get_dispute(db, scope, dispute_id)
    row = db.exec(
        select(DisputeEvidenceFile).where(
            DisputeEvidenceFile.id == file_id, DisputeEvidenceFile.dispute_id == dispute_id
        )
    ).first()
    if row is None:
        raise NotFound(f"No such evidence file: {file_id!r}", param="fileId")
    path = evidence_dir() / row.storage_name
    if not path.is_file():
        raise NotFound("That file is no longer stored", param="fileId")
    return row, path


# ---------------------------------------------------------------------------------------------
# Changes


@dataclass(frozen=True)
class Upload:
    filename: str
    data: bytes


def _ensure_open(dispute: Dispute) -> None:
    if dispute.status != DisputeStatus.NEEDS_RESPONSE:
        raise Conflict(
            f"This dispute is {labels.status(dispute.status).lower()}: "
            "evidence can no longer be added",
            code="dispute_not_open",
        )
    if _past_due(dispute):
        raise Conflict("The deadline for evidence has passed", code="dispute_past_due")


def _clean_name(filename: str) -> str:
    name = Path(filename.replace("\\", "/")).name.strip()
    name = "".join(ch for ch in name if ch.isprintable() and ch not in '"<>|')
    return name[:255] or "evidence"


def add_evidence(
    db: Session, scope: Scope, dispute_id: str, uploads: list[Upload], *, actor: Actor
) -> list[DisputeEvidenceFile]:
    """Check every file first, then store them all or none."""
    if not uploads:
        raise ValidationFailed("Choose at least one file", param="files")
    dispute = get_dispute(db, scope, dispute_id, lock=True)
    _ensure_open(dispute)
    existing = db.exec(
        select(func.count()).where(DisputeEvidenceFile.dispute_id == dispute.id)
    ).one()
    if existing + len(uploads) > MAX_FILES:
        raise ValidationFailed(
            f"A dispute takes at most {MAX_FILES} files ({existing} already attached)",
            param="files",
        )
    checked: list[tuple[Upload, str]] = []
    for upload in uploads:
        name = _clean_name(upload.filename)
        if len(upload.data) > MAX_FILE_BYTES:
            raise ValidationFailed(
                f"{name} is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB", param="files"
            )
        if not upload.data:
            raise ValidationFailed(f"{name} is empty", param="files")
        content_type = sniff(upload.data)
        if content_type is None:
            raise ValidationFailed(
                f"{name} is not a PDF, PNG or JPEG file", param="files", code="file_type"
            )
        checked.append((Upload(name, upload.data), content_type))

    folder = evidence_dir()
    folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    rows: list[DisputeEvidenceFile] = []
    try:
        for upload, content_type in checked:
            storage_name = secrets.token_hex(20) + ACCEPTED[content_type][1]
            path = folder / storage_name
            tmp = path.with_suffix(".part")
            tmp.write_bytes(upload.data)
            os.replace(tmp, path)
            written.append(path)
            row = DisputeEvidenceFile(
                id=new_id("dpf"),
                merchant_id=scope.merchant_id,
                livemode=scope.livemode,
                dispute_id=dispute.id,
                filename=upload.filename,
                content_type=content_type,
                size_bytes=len(upload.data),
                sha256=hashlib.sha256(upload.data).hexdigest(),
                storage_name=storage_name,
                uploaded_by_user_id=actor.id if actor.type == ActorType.USER else None,
            )
            db.add(row)
            rows.append(row)
        audit.record_by(
            db, actor, "dispute.evidence_added", dispute, "dispute", {"files": [r.id for r in rows]}
        )
        db.flush()
    except BaseException:
        for path in written:
            with contextlib.suppress(OSError):
                path.unlink()
        raise
    return rows


def remove_evidence(
    db: Session, scope: Scope, dispute_id: str, file_id: str, *, actor: Actor
) -> None:
    dispute = get_dispute(db, scope, dispute_id, lock=True)
    _ensure_open(dispute)
    row, path = evidence_file(db, scope, dispute_id, file_id)
    db.delete(row)
    audit.record_by(db, actor, "dispute.evidence_removed", dispute, "dispute", {"file": file_id})
    db.flush()
    with contextlib.suppress(OSError):
        path.unlink()


def save_explanation(
    db: Session, scope: Scope, dispute_id: str, explanation: str, *, actor: Actor
) -> DisputeResponse:
    dispute = get_dispute(db, scope, dispute_id, lock=True)
    _ensure_open(dispute)
    text = explanation.strip()
    if len(text) > MAX_EXPLANATION:
        raise ValidationFailed(
            f"Keep the explanation under {MAX_EXPLANATION} characters", param="explanation"
        )
    response = db.exec(
        select(DisputeResponse).where(DisputeResponse.dispute_id == dispute.id)
    ).first()
    if response is None:
        response = DisputeResponse(
            id=new_id("dpr"), merchant_id=scope.merchant_id, dispute_id=dispute.id
        )
    response.explanation = text
    response.updated_at = utcnow()
    db.add(response)
    db.flush()
    return response


def submit_evidence(
    db: Session, scope: Scope, dispute_id: str, explanation: str, *, actor: Actor
) -> Dispute:
    """Send the response: the dispute goes under review and can no longer be changed. The
    sandbox decides at once (Stripe's test words), and the decision is booked with it."""
    response = save_explanation(db, scope, dispute_id, explanation, actor=actor)
    dispute = get_dispute(db, scope, dispute_id, lock=True)
    files = list(
        db.exec(
            select(DisputeEvidenceFile)
            .where(DisputeEvidenceFile.dispute_id == dispute.id)
            .order_by(col(DisputeEvidenceFile.created_at))
        )
    )
    if not files:
        raise ValidationFailed(
            "Attach at least one file (a receipt, a delivery proof, your terms...)",
            param="files",
        )
    if len(response.explanation) < 20:
        raise ValidationFailed(
            "Explain in a few sentences why the payment was legitimate", param="explanation"
        )
    payment = _payment_of(db, dispute)
    state = _at_processor(
        db,
        dispute,
        payment,
        "dispute_submit",
        lambda gateway, gateway_id: gateway.submit_dispute(
            gateway_id, _evidence(payment, response), [_evidence_file(f) for f in files]
        ),
    )
    if state is not None and state.stage == DisputeStage.NEEDS_RESPONSE:
        raise Conflict(
            "The processor did not take the response; try again in a moment.",
            code="dispute_not_submitted",
        )
    response.submitted_at = booking.dispute_under_review(db, dispute, actor, files=len(files))
    response.submitted_by_user_id = actor.id if actor.type == ActorType.USER else None
    db.add(response)
    if state is not None and state.decided:  # the bank's decision, not the member's
        booking.close_dispute(db, dispute, won=state.stage == DisputeStage.WON, actor=SYSTEM)
    return dispute


def accept_dispute(db: Session, scope: Scope, dispute_id: str, *, actor: Actor) -> Dispute:
    """Concede an open dispute: the customer keeps the money and the dispute is lost (an
    inquiry that moved no money closes as won, as Stripe reports it)."""
    dispute = get_dispute(db, scope, dispute_id, lock=True)
    if dispute.status != DisputeStatus.NEEDS_RESPONSE:
        raise Conflict(
            f"This dispute is {labels.status(dispute.status).lower()}: "
            "only a dispute awaiting your response can be accepted",
            code="dispute_not_open",
        )
    payment = _payment_of(db, dispute)
    state = _at_processor(
        db,
        dispute,
        payment,
        "dispute_accept",
        lambda gateway, gateway_id: gateway.accept_dispute(gateway_id),
    )
    audit.record_by(db, actor, "dispute.accepted", dispute, "dispute", {})
    won = state is not None and state.stage == DisputeStage.WON
    return booking.close_dispute(db, dispute, won=won, actor=actor)


def _payment_of(db: Session, dispute: Dispute) -> Payment:
    payment = db.get(Payment, dispute.payment_id)
    assert payment is not None  # a foreign key
    return payment


def _at_processor(
    db: Session,
    dispute: Dispute,
    payment: Payment,
    operation: str,
    act: Callable[[Gateway, str], DisputeState],
) -> DisputeState | None:
    """The processor's answer for a dispute it holds, through the gateway that took the payment
    (None: a dispute opened here only, with no processor to tell). A processor that cannot be
    reached is a 503 the member can retry: each request's idempotency key comes from its
    content, so a retry never sends the response twice."""
    gateway_id = dispute.gateway_dispute_id
    if gateway_id is None:
        return None
    route = routing.route_for_payment(db, payment)
    try:
        return routing.call(
            route,
            lambda gateway: act(gateway, gateway_id),
            attempt_recorder(db, payment, operation),
            lambda state: (state.stage.value, None, None),
        )
    except GatewayUnavailable as exc:
        raise routing.AllGatewaysUnavailable(
            f"The payment processor could not be reached, so nothing was changed. Try again "
            f"in a moment. ({exc.message})"
        ) from exc


def _evidence(payment: Payment, response: DisputeResponse) -> DisputeEvidence:
    return DisputeEvidence(
        uncategorized_text=response.explanation,
        product_description=payment.description,
        customer_email_address=payment.customer_email,
    )


def _evidence_file(row: DisputeEvidenceFile) -> EvidenceFile:
    """The stored bytes of an evidence file. Our files carry no kind yet: each goes as
    uncategorized, so Stripe (one file per kind) takes one file per response."""
    path = evidence_dir() / row.storage_name
    try:
        data = path.read_bytes()
    except OSError:
        raise NotFound(
            f"{row.filename} is no longer stored: remove it and attach it again", param="files"
        ) from None
    return EvidenceFile(row.filename, row.content_type, data)
