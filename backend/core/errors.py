"""The service layer's errors: each carries a stable code, an HTTP status and the offending param.

Every entry point maps these the same way: the REST API to `{"success": false, "error": ...}`,
the portal to a message on the page, the CLI to a message and a non-zero exit.
"""

from __future__ import annotations


class ServiceError(Exception):
    status = 400
    code = "invalid_request"

    def __init__(self, message: str, *, code: str | None = None, param: str | None = None):
        super().__init__(message)
        self.message = message
        self.param = param
        if code:
            self.code = code

    def to_dict(self) -> dict[str, str | None]:
        return {"code": self.code, "message": self.message, "param": self.param}


class ValidationFailed(ServiceError):
    status = 422
    code = "validation_error"


class NotFound(ServiceError):
    status = 404
    code = "resource_missing"


class Conflict(ServiceError):
    status = 409
    code = "conflict"


class AuthenticationFailed(ServiceError):
    status = 401
    code = "authentication_failed"


class PermissionDenied(ServiceError):
    status = 403
    code = "permission_denied"


class RateLimited(ServiceError):
    status = 429
    code = "rate_limited"

    def __init__(self, message: str, *, retry_after: int, **kwargs: str | None):
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class Unavailable(ServiceError):
    """A provider asked on the caller's behalf could not be reached or failed on its side."""

    status = 503
    code = "provider_unavailable"
