"""The customer-facing hosted checkout and payment link pages (Reflex), mobile-first; their state
calls backend.services.checkout only."""
