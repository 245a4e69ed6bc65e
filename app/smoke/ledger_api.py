"""The deployed ledger as the smoke sees it: its public HTTP routes, nothing else.

The organizer routes take a token signed with ``LEDGER_TOKEN_SECRET`` (as the platform
signs them), ``/internal/group-changes`` the ``LEDGER_SERVICE_TOKEN``. Each answer that
is not the expected status fails the step with the status and the problem's detail.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from app.entrypoints.http.auth import issue_token
from app.smoke.report import StepFailedError

HTTP_TIMEOUT_S = 15.0
TOKEN_TTL = timedelta(minutes=30)


def _failure(what: str, answer: httpx.Response) -> StepFailedError:
    detail = answer.text[:300]
    if answer.headers.get("content-type", "").startswith("application/problem+json"):
        body = answer.json()
        detail = f"{body.get('title')}: {body.get('detail')}"
    return StepFailedError(f"{what}: HTTP {answer.status_code} ({' '.join(detail.split())})")


class LedgerApi:
    """One smoke run's calls to the ledger at ``base_url``."""

    def __init__(
        self, base_url: str, *, organizer_id: str, token_secret: str, service_token: str
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.organizer_id = organizer_id
        self.service_token = service_token
        self.organizer_token = issue_token(
            token_secret, subject=organizer_id, role="organizer", ttl=TOKEN_TTL
        )
        self.http = httpx.Client(base_url=self.base_url, timeout=HTTP_TIMEOUT_S)

    def close(self) -> None:
        self.http.close()

    def ready(self) -> None:
        answer = self.http.get("/readyz")
        if answer.status_code != 200:
            raise _failure("GET /readyz", answer)

    def change_groups(self, action: str, group_ids: list[str], *, run: str) -> dict[str, Any]:
        """Group changes as the platform sends them; every one must be applied."""
        now = datetime.now(UTC).isoformat()
        changes = [
            {
                # Unique per run and group: a retried request is a duplicate, never a change.
                "change_id": f"{run}-{action}-{group_id}",
                "organizer_id": self.organizer_id,
                "group_id": group_id,
                "action": action,
                "occurred_at": now,
            }
            for group_id in group_ids
        ]
        answer = self.http.post(
            "/internal/group-changes",
            json={"changes": changes},
            headers={"Authorization": f"Bearer {self.service_token}"},
        )
        if answer.status_code != 200:
            raise _failure("POST /internal/group-changes", answer)
        body: dict[str, Any] = answer.json()
        outcomes = {r.get("outcome") for r in body.get("results", [])}
        if outcomes - {"applied", "duplicate"} or len(body.get("results", [])) != len(changes):
            msg = f"group changes not applied: {body.get('results')}"
            raise StepFailedError(msg)
        return body

    def _organizer(self, path: str = "") -> httpx.Response:
        return self.http.get(
            f"/api/organizers/{self.organizer_id}{path}",
            headers={"Authorization": f"Bearer {self.organizer_token}"},
        )

    def billing(self) -> dict[str, Any] | None:
        """The billing page's data; None while the organizer is not known yet (404)."""
        answer = self._organizer()
        if answer.status_code == 404:
            return None
        if answer.status_code != 200:
            raise _failure(f"GET /api/organizers/{self.organizer_id}", answer)
        body: dict[str, Any] = answer.json()
        return body

    def timeline(self) -> list[dict[str, Any]]:
        answer = self._organizer("/timeline")
        if answer.status_code != 200:
            raise _failure(f"GET /api/organizers/{self.organizer_id}/timeline", answer)
        entries: list[dict[str, Any]] = answer.json()["entries"]
        return entries

    def enroll(self) -> dict[str, Any]:
        """A Checkout Session for the organizer (the ledger's default return URLs)."""
        answer = self.http.post(
            f"/api/organizers/{self.organizer_id}/enrollment",
            json={},
            headers={"Authorization": f"Bearer {self.organizer_token}"},
        )
        if answer.status_code not in (200, 201):
            raise _failure(f"POST /api/organizers/{self.organizer_id}/enrollment", answer)
        link: dict[str, Any] = answer.json()
        return link
