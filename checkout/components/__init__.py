"""Views of the hosted checkout: the card form (sandbox), Stripe's Payment Element (live), the
receipt and the merchant's storefront."""
