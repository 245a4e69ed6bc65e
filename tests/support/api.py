"""Tokens and a full HTTP stack for organizer-API tests."""

from __future__ import annotations

from datetime import timedelta

from app.entrypoints.http.auth import Role, issue_token

TOKEN_SECRET = "test-token-secret-0123456789abcdef0123456789"
SERVICE_TOKEN = "service-token-0123456789"


def token(
    subject: str,
    role: Role = "organizer",
    *,
    ttl: timedelta = timedelta(hours=1),
    secret: str = TOKEN_SECRET,
) -> str:
    return issue_token(secret, subject=subject, role=role, ttl=ttl)


def bearer(subject: str, role: Role = "organizer", **kwargs: object) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(subject, role, **kwargs)}"}  # type: ignore[arg-type]
