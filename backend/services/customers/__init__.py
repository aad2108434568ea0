"""Customers: a merchant's customers and the cards saved for them.

records (create, update, soft delete, find, search), payment_methods (save a card at a processor,
list, detach, the default, the card a charge is for), figures (what each customer is worth and
the cards used in its payments, for the portal's pages) and pages (what the portal's Customers
pages do, with the member's permission checked). Charging a saved card is the charge path's:
backend.services.payments.charges.charge_saved_method.
"""
