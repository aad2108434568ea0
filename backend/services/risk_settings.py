"""What a merchant tunes: gateways and routing rules, risk thresholds, refund terms."""

from __future__ import annotations

from sqlmodel import Session, select

from backend.gateways.routing import GATEWAY_NAMES
from backend.ids import new_id
from backend.models import GatewayConfig, Merchant, utcnow
from backend.services import audit
from backend.services.crypto import encrypt_json
from backend.services.currency import normalise_currency
from backend.services.errors import NotFound, ValidationFailed


def _merchant(db: Session, merchant_id: str) -> Merchant:
    merchant = db.get(Merchant, merchant_id)
    if merchant is None:
        raise NotFound(f"No such merchant: {merchant_id!r}", param="merchant")
    return merchant


def add_gateway(
    db: Session,
    merchant_id: str,
    *,
    gateway: str,
    livemode: bool = False,
    priority: int = 100,
    secret_key: str | None = None,
    currencies: list[str] | None = None,
    methods: list[str] | None = None,
    min_amount: int | None = None,
    max_amount: int | None = None,
) -> GatewayConfig:
    """Route some or all of a merchant's payments to a gateway (credentials encrypted)."""
    _merchant(db, merchant_id)
    if gateway not in GATEWAY_NAMES:
        raise ValidationFailed(
            f"gateway must be one of {', '.join(GATEWAY_NAMES)}", param="gateway"
        )
    if livemode and gateway == "sandbox":
        raise ValidationFailed("The sandbox only takes test-mode payments", param="gateway")
    if secret_key is not None:
        if gateway != "stripe":
            raise ValidationFailed("Only Stripe takes credentials", param="secret_key")
        expected = ("sk_live_", "rk_live_") if livemode else ("sk_test_", "rk_test_")
        if not secret_key.startswith(expected):
            raise ValidationFailed(
                f"A {'live' if livemode else 'test'}-mode Stripe secret key starts with "
                f"{' or '.join(expected)}",
                param="secret_key",
            )
    if min_amount is not None and max_amount is not None and min_amount > max_amount:
        raise ValidationFailed("min_amount is above max_amount", param="min_amount")
    config = GatewayConfig(
        id=new_id("gwc"),
        merchant_id=merchant_id,
        livemode=livemode,
        gateway=gateway,
        priority=priority,
        credentials_encrypted=encrypt_json({"secret_key": secret_key}) if secret_key else None,
        currencies=[normalise_currency(c) for c in currencies or []],
        methods=list(methods or []),
        min_amount=min_amount,
        max_amount=max_amount,
    )
    db.add(config)
    audit.record(
        db,
        action="gateway_config.created",
        merchant_id=merchant_id,
        livemode=livemode,
        object_type="gateway_config",
        object_id=config.id,
        details={"gateway": gateway, "priority": priority, "currencies": config.currencies},
    )
    return config


def list_gateways(db: Session, merchant_id: str) -> list[GatewayConfig]:
    return list(
        db.exec(
            select(GatewayConfig)
            .where(GatewayConfig.merchant_id == merchant_id)
            .order_by(GatewayConfig.livemode, GatewayConfig.priority)
        )
    )


def set_risk_thresholds(db: Session, merchant_id: str, *, review: int, block: int) -> Merchant:
    """Scores at or above `review` are flagged, at or above `block` refused (0-101; 101 = never)."""
    for name, value in (("review", review), ("block", block)):
        if not 0 <= value <= 101:
            raise ValidationFailed(f"{name} must be between 0 and 101", param=name)
    if review > block:
        raise ValidationFailed("review must not be above block", param="review")
    merchant = _merchant(db, merchant_id)
    merchant.risk_review_score, merchant.risk_block_score = review, block
    merchant.updated_at = utcnow()
    db.add(merchant)
    audit.record(
        db,
        action="merchant.risk_thresholds_changed",
        merchant_id=merchant_id,
        object_type="merchant",
        object_id=merchant_id,
        details={"review": review, "block": block},
    )
    return merchant
