"""Bearer JWTs for the organizer API (PyJWT, HS256, ``LEDGER_TOKEN_SECRET``).

The platform issues the tokens: ``sub`` is the platform's organizer id with role
``organizer``, or a staff member with role ``finance`` or ``ops``; ``exp`` is required.
An organizer may read and act only on its own organizer: any other id answers 404, so
a token never reveals whether another organizer exists.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

import jwt
from starlette.requests import Request

from app.entrypoints.http.problems import Problem
from app.settings import Settings

Role = Literal["organizer", "finance", "ops"]
ROLES: tuple[Role, ...] = ("organizer", "finance", "ops")
STAFF: tuple[Role, ...] = ("finance", "ops")
ALGORITHM = "HS256"


@dataclass(frozen=True)
class Principal:
    subject: str
    role: Role

    def may_see(self, organizer_id: str) -> bool:
        return self.role in STAFF or self.subject == organizer_id


def issue_token(secret: str, *, subject: str, role: Role, ttl: timedelta) -> str:
    """A token as the platform would issue it (``ledger token issue``, tests)."""
    now = datetime.now(UTC)
    claims = {"sub": subject, "role": role, "iat": now, "exp": now + ttl}
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def _unauthorized(detail: str) -> Problem:
    return Problem(
        401,
        "Unauthorized",
        detail,
        headers={"WWW-Authenticate": 'Bearer realm="renewal-ledger"'},
    )


def principal_of(request: Request, settings: Settings) -> Principal:
    """The caller, from ``Authorization: Bearer <jwt>``; 401 for anything else."""
    if settings.token_secret is None:
        raise _unauthorized("the API is not configured (LEDGER_TOKEN_SECRET is not set)")
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise _unauthorized("a bearer token is required")
    try:
        claims = jwt.decode(
            token.strip(),
            settings.token_secret.get_secret_value(),
            algorithms=[ALGORITHM],
            options={"require": ["exp", "sub"]},
        )
    except jwt.ExpiredSignatureError:
        raise _unauthorized("the token has expired") from None
    except jwt.InvalidTokenError as error:
        raise _unauthorized(f"the token is invalid: {error}") from None
    check_times(claims, now=datetime.now(UTC), max_ttl=settings.token_max_ttl)
    role, subject = claims.get("role", "organizer"), claims.get("sub")
    if role not in ROLES or not isinstance(subject, str) or not subject:
        raise _unauthorized("the token's role or subject is not valid")
    return Principal(subject=subject, role=role)


def check_times(claims: dict[str, object], *, now: datetime, max_ttl: timedelta) -> None:
    """RFC 7519's time claims are NumericDates (PyJWT also takes ``"exp": "99999999999"``),
    and no token may live longer than ``LEDGER_TOKEN_MAX_TTL`` from now: a leaked token
    with a far ``exp`` would be a permanent key."""
    for name in ("exp", "nbf", "iat"):
        value = claims.get(name)
        if name in claims and not _is_numeric_date(value):
            raise _unauthorized(f"the token's `{name}` must be a NumericDate (seconds)")
    expires = float(claims["exp"])  # type: ignore[arg-type]
    if expires - now.timestamp() > max_ttl.total_seconds():
        raise _unauthorized(f"the token's `exp` is more than {max_ttl} in the future")


def _is_numeric_date(value: object) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and 0 <= value < 1e11
    )


def require_staff(request: Request, settings: Settings, *roles: Role) -> Principal:
    """Finance/ops routes: 401 without a valid token, 403 for other roles."""
    principal = principal_of(request, settings)
    if principal.role not in (roles or STAFF):
        raise Problem(403, "Forbidden", f"this route is for {', '.join(roles or STAFF)}")
    return principal


def require_organizer_access(request: Request, settings: Settings, organizer_id: str) -> Principal:
    """Organizer routes: the organizer itself, or staff. Another organizer's id is a 404."""
    principal = principal_of(request, settings)
    if not principal.may_see(organizer_id) or not is_platform_id(organizer_id):
        raise organizer_not_found(organizer_id)
    return principal


def is_platform_id(value: str) -> bool:
    """Could this be a platform id at all? (The domain refuses blank or overlong ones.)"""
    return bool(value.strip()) and len(value) <= 200


def organizer_not_found(organizer_id: str) -> Problem:
    return Problem(
        404, "Organizer not found", f"no organizer {organizer_id!r}", slug="organizer-not-found"
    )
