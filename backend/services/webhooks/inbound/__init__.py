"""Inbound processor webhooks: verified and stored at once, processed later by the job runner."""
