"""The Developers pages' actions for a signed-in member: API keys and webhook endpoints.

Every function takes the member's resolved session (role, merchant, mode) and checks the
permission matrix first, then the step-up window where the action is sensitive, then acts
through api_keys and the outbound webhook modules in the session's merchant and mode. The
portal's event handlers call these, so the checks run on the server whatever the page shows.

Step-up (a fresh second-factor code): rolling an API key, creating a live-mode key, rolling a
webhook signing secret, and registering a live-mode endpoint (it would receive live payment
data). Revoking a key or disabling an endpoint only takes access away, so it needs none.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from backend.core.db import session_scope
from backend.models import ApiKey, WebhookEndpoint
from backend.models.enums import ActorType
from backend.services import audit
from backend.services.context import Actor, Scope
from backend.services.identity import api_keys, step_up
from backend.services.identity.permissions import Permission, require
from backend.services.identity.sessions import SessionContext
from backend.services.webhooks.outbound import deliveries as webhook_deliveries
from backend.services.webhooks.outbound import endpoints as webhook_endpoints


def _scope(ctx: SessionContext) -> Scope:
    return Scope(ctx.merchant_id, ctx.livemode)


def _actor(ctx: SessionContext) -> Actor:
    return Actor(ActorType.USER, ctx.user_id)


# ---------------------------------------------------------------------------------------------
# API keys


def list_api_keys(db: Session, ctx: SessionContext) -> list[ApiKey]:
    require(ctx.role, Permission.VIEW_DEVELOPERS)
    return api_keys.list_keys(db, ctx.merchant_id, ctx.livemode)


def create_api_key(db: Session, ctx: SessionContext, name: object) -> api_keys.IssuedKey:
    require(ctx.role, Permission.MANAGE_API_KEYS)
    clean = api_keys.validate_name(name)
    if ctx.livemode:
        step_up.require_fresh(db, ctx.session_id)
    return api_keys.issue_key(
        db, ctx.merchant_id, livemode=ctx.livemode, name=clean, created_by_user_id=ctx.user_id
    )


def roll_api_key(db: Session, ctx: SessionContext, key_id: str, grace: str) -> api_keys.IssuedKey:
    require(ctx.role, Permission.MANAGE_API_KEYS)
    step_up.require_fresh(db, ctx.session_id)
    return api_keys.roll_key(
        db, ctx.merchant_id, ctx.livemode, key_id, grace=grace, actor_user_id=ctx.user_id
    )


def reveal_api_key(db: Session, ctx: SessionContext, key_id: str) -> str:
    """A test key's secret, shown again (audited as api_key.revealed). No step-up: a test key
    reaches only the sandbox, and live keys are never revealed."""
    require(ctx.role, Permission.MANAGE_API_KEYS)
    return api_keys.reveal_secret(
        db, ctx.merchant_id, ctx.livemode, key_id, actor_user_id=ctx.user_id
    )


def revoke_api_key(db: Session, ctx: SessionContext, key_id: str) -> ApiKey:
    require(ctx.role, Permission.MANAGE_API_KEYS)
    return api_keys.revoke_key(db, ctx.merchant_id, ctx.livemode, key_id, actor_user_id=ctx.user_id)


# ---------------------------------------------------------------------------------------------
# Webhook endpoints


def list_endpoints(db: Session, ctx: SessionContext) -> list[WebhookEndpoint]:
    require(ctx.role, Permission.VIEW_DEVELOPERS)
    return webhook_endpoints.list_endpoints(db, _scope(ctx))


def get_endpoint(db: Session, ctx: SessionContext, endpoint_id: str) -> WebhookEndpoint:
    require(ctx.role, Permission.VIEW_DEVELOPERS)
    return webhook_endpoints.get_endpoint(db, _scope(ctx), endpoint_id)


def create_endpoint(
    db: Session,
    ctx: SessionContext,
    *,
    url: str,
    enabled_events: list[str],
    description: str | None = None,
) -> webhook_endpoints.EndpointWithSecret:
    require(ctx.role, Permission.MANAGE_WEBHOOKS)
    if ctx.livemode:
        step_up.require_fresh(db, ctx.session_id)
    return webhook_endpoints.create_endpoint(
        db,
        _scope(ctx),
        url=url,
        enabled_events=enabled_events,
        description=description,
        actor=_actor(ctx),
    )


def set_endpoint_enabled(
    db: Session, ctx: SessionContext, endpoint_id: str, enabled: bool
) -> WebhookEndpoint:
    require(ctx.role, Permission.MANAGE_WEBHOOKS)
    return webhook_endpoints.update_endpoint(
        db, _scope(ctx), endpoint_id, disabled=not enabled, actor=_actor(ctx)
    )


def delete_endpoint(db: Session, ctx: SessionContext, endpoint_id: str) -> None:
    require(ctx.role, Permission.MANAGE_WEBHOOKS)
    webhook_endpoints.delete_endpoint(db, _scope(ctx), endpoint_id, actor=_actor(ctx))


def roll_endpoint_secret(
    db: Session, ctx: SessionContext, endpoint_id: str, overlap_hours: int
) -> webhook_endpoints.EndpointWithSecret:
    require(ctx.role, Permission.MANAGE_WEBHOOKS)
    step_up.require_fresh(db, ctx.session_id)
    return webhook_endpoints.roll_secret(
        db, _scope(ctx), endpoint_id, overlap_hours=overlap_hours, actor=_actor(ctx)
    )


def _audit_delivery(db: Session, ctx: SessionContext, action: str, delivery_id: str) -> None:
    audit.record(
        db,
        action=action,
        merchant_id=ctx.merchant_id,
        livemode=ctx.livemode,
        actor_type=ActorType.USER,
        actor_id=ctx.user_id,
        object_type="webhook_delivery",
        object_id=delivery_id,
    )


def send_test_event(db: Session, ctx: SessionContext, endpoint_id: str) -> str:
    """The new delivery's id (enqueue it once this unit of work has committed)."""
    require(ctx.role, Permission.MANAGE_WEBHOOKS)
    delivery = webhook_deliveries.send_test_event(db, _scope(ctx), endpoint_id)
    _audit_delivery(db, ctx, "webhook_delivery.test_sent", delivery.id)
    return delivery.id


def redeliver(db: Session, ctx: SessionContext, delivery_id: str) -> str:
    """Make the delivery due now; its id (enqueue it once this unit of work has committed)."""
    require(ctx.role, Permission.MANAGE_WEBHOOKS)
    delivery = webhook_deliveries.redeliver(db, _scope(ctx), delivery_id)
    _audit_delivery(db, ctx, "webhook_delivery.redelivered", delivery.id)
    return delivery.id


@dataclass(frozen=True)
class LogPage:
    deliveries: list[webhook_deliveries.LoggedDelivery]
    next_cursor: str | None


def delivery_log(
    db: Session, ctx: SessionContext, endpoint_id: str, *, cursor: str | None = None
) -> LogPage:
    require(ctx.role, Permission.VIEW_DEVELOPERS)
    page, next_cursor = webhook_deliveries.delivery_log(
        db, _scope(ctx), endpoint_id, limit=20, cursor=cursor
    )
    return LogPage(page, next_cursor)


def delivery_detail(
    db: Session, ctx: SessionContext, delivery_id: str
) -> webhook_deliveries.DeliveryDetail:
    require(ctx.role, Permission.VIEW_DEVELOPERS)
    return webhook_deliveries.delivery_detail(db, _scope(ctx), delivery_id)


@dataclass(frozen=True)
class EndpointLog:
    endpoint: WebhookEndpoint
    deliveries: list[webhook_deliveries.LoggedDelivery]
    next_cursor: str | None


def read_endpoint_log(ctx: SessionContext, endpoint_id: str, *, limit: int = 20) -> EndpointLog:
    """The endpoint and its newest deliveries, read in a unit of work of its own (the portal's
    open delivery log refreshes itself with this every few seconds)."""
    require(ctx.role, Permission.VIEW_DEVELOPERS)
    with session_scope(readonly=True) as db:
        endpoint = webhook_endpoints.get_endpoint(db, _scope(ctx), endpoint_id)
        page, next_cursor = webhook_deliveries.delivery_log(
            db, _scope(ctx), endpoint.id, limit=max(1, min(limit, 100))
        )
    return EndpointLog(endpoint, page, next_cursor)


def read_delivery_detail(
    ctx: SessionContext, delivery_id: str
) -> webhook_deliveries.DeliveryDetail:
    """delivery_detail in a read-only unit of work of its own."""
    with session_scope(readonly=True) as db:
        return delivery_detail(db, ctx, delivery_id)
