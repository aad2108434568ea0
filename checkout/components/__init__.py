"""Views of the hosted checkout that need more than the page itself: Stripe's Payment Element for
live card payments."""
