"""Outbound webhooks to merchants.

endpoints.py   merchants' endpoints: create, update, list, delete, roll the secret, disable
fanout.py      the outbox fanned out: one WebhookDelivery per subscribed endpoint and event
delivery.py    one attempt: claim with a lease, sign, POST, record the outcome
signing.py     the PayPortal-Signature header and the exact body it signs
sending.py     the HTTP POST itself (checked address, no redirects, a bounded excerpt)
schedule.py    the retry schedule and when an endpoint is given up on
notices.py     e-mails to the merchant's owner (deliveries failing, endpoint disabled)
deliveries.py  deliveries as merchants see them: states, log, detail, redelivery, test events
urls.py        which URLs are valid, and the guard against server-side request forgery
failures.py    why an attempt failed, in codes and in words
listener.py    the local listener (`python -m backend webhooks listen`)
"""
