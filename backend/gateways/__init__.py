"""Payment processors behind one Gateway protocol (base.py): the offline sandbox and Stripe,
with the card rules they share and the decline codes a customer is told. No database, no
services."""
