"""Files the site serves from its root for other parties: Apple's domain-association file,
which Apple fetches to verify the checkout's domain for Apple Pay."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import PlainTextResponse, Response

from backend.services.checkout import wallet_domains

router = APIRouter(include_in_schema=False)


@router.get(wallet_domains.ASSOCIATION_PATH)
def apple_pay_domain_association() -> Response:
    """The file as given (APPLE_PAY_DOMAIN_ASSOCIATION), as plain text and never redirected,
    which Apple requires; without one a plain 404, not the app's page."""
    content = wallet_domains.apple_pay_association()
    if content is None:
        return PlainTextResponse("Not Found", status_code=404)
    return Response(content, media_type="text/plain")
