"""The identity pages (sign-up, e-mail links, team, audit log, sessions): importing this module
registers them with the app."""

from portal.pages import (  # noqa: F401  (pages register themselves)
    accept_invite,
    audit_log,
    mailbox,
    password_reset,
    sessions,
    signup,
    team,
    verify_email,
)
