"""The portal's Webhooks pages for a signed-in member: endpoints, their signing secrets, the
delivery log, test events and redelivery.

Each function opens its own unit of work around developers (which checks the permission and,
where the action is sensitive, the step-up window). A delivery made due is enqueued only once
its unit of work has committed, so a worker always finds its row.
"""

from __future__ import annotations

from backend.core import enqueue
from backend.core.db import session_scope
from backend.models import Merchant, WebhookEndpoint
from backend.services.identity.sessions import SessionContext
from backend.services.merchant import developers
from backend.services.webhooks.outbound import endpoints


def merchant_timezone(ctx: SessionContext) -> str:
    with session_scope(readonly=True) as db:
        merchant = db.get(Merchant, ctx.merchant_id)
    return merchant.timezone if merchant else "UTC"


def list_endpoints(ctx: SessionContext) -> list[WebhookEndpoint]:
    with session_scope(readonly=True) as db:
        return list(developers.list_endpoints(db, ctx))


def create_endpoint(
    ctx: SessionContext, *, url: str, enabled_events: list[str], description: str | None
) -> endpoints.EndpointWithSecret:
    with session_scope() as db:
        return developers.create_endpoint(
            db, ctx, url=url, enabled_events=enabled_events, description=description
        )


def more_deliveries(
    ctx: SessionContext, endpoint_id: str, cursor: str | None
) -> developers.LogPage:
    with session_scope(readonly=True) as db:
        return developers.delivery_log(db, ctx, endpoint_id, cursor=cursor)


def redeliver(ctx: SessionContext, delivery_id: str) -> None:
    with session_scope() as db:
        queued = developers.redeliver(db, ctx, delivery_id)
    enqueue.enqueue(enqueue.WEBHOOK_DELIVERIES, [queued])


def send_test_event(ctx: SessionContext, endpoint_id: str) -> None:
    with session_scope() as db:
        queued = developers.send_test_event(db, ctx, endpoint_id)
    enqueue.enqueue(enqueue.WEBHOOK_DELIVERIES, [queued])


def set_endpoint_enabled(ctx: SessionContext, endpoint_id: str, enabled: bool) -> None:
    with session_scope() as db:
        developers.set_endpoint_enabled(db, ctx, endpoint_id, enabled)


def roll_endpoint_secret(
    ctx: SessionContext, endpoint_id: str, overlap_hours: int
) -> endpoints.EndpointWithSecret:
    with session_scope() as db:
        return developers.roll_endpoint_secret(db, ctx, endpoint_id, overlap_hours)


def delete_endpoint(ctx: SessionContext, endpoint_id: str) -> None:
    with session_scope() as db:
        developers.delete_endpoint(db, ctx, endpoint_id)
