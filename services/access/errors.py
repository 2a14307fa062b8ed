"""What the access store refuses; the gateway renders each as problem+json (services/gateway/errors.py).

    AccessError
    ├── UnknownEntity       an institution, department, staff member, app, key or grant that does not exist
    ├── AlreadyExists       an id already taken
    ├── NotAllowed          the principal may not do this (role, scope, or another institution's business)
    ├── InvalidGrant        a grant whose scope could not select assets (a saved query search would refuse: 422)
    ├── TierRefused         the asset is visible, but not at the tier asked for (403, says what would allow it)
    ├── InvalidKey          a key that is malformed, unknown, revoked or expired (401)
    └── RateLimited         too many requests in this window (429)
"""

from __future__ import annotations


class AccessError(Exception):
    def __init__(self, detail: str, **extensions: object) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extensions = extensions


class UnknownEntity(AccessError):
    pass


class AlreadyExists(AccessError):
    pass


class NotAllowed(AccessError):
    pass


class InvalidGrant(AccessError):
    """A grant's scope is not one a search could run: `errors` names each field and reason."""


class InvalidKey(AccessError):
    pass


class RateLimited(AccessError):
    def __init__(self, detail: str, retry_after_s: int, **extensions: object) -> None:
        super().__init__(detail, **extensions)
        self.retry_after_s = retry_after_s


class TierRefused(AccessError):
    """The asset is visible, but its licence and the caller's grants allow less than the tier asked for."""
