"""Outbound webhooks to merchants: endpoints, fan-out from the outbox, signed delivery, retries, the
SSRF guard, failure reasons and the local listener."""
