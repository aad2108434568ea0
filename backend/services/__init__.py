"""The service layer, one package per domain (payments, checkout, webhooks, identity, merchant,
reporting) and the few modules every domain writes through: audit rows, outbox events, idempotency,
the public shape of objects (representations) and the words people read (labels)."""
