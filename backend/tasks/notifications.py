"""The team's e-mail notifications (backend/services/notifications.py), every five minutes."""

from __future__ import annotations

from huey import crontab

from backend.core.db import session_scope
from backend.core.jobs import huey
from backend.integrations import email
from backend.services.merchant import notifications


@huey.periodic_task(crontab(minute="*/5"))
def send_notifications() -> None:
    with session_scope() as db:
        queued = notifications.send_due(db)
    for email_id in queued:  # after the commit: no database lock while the provider answers
        email.send_recorded(email_id)
