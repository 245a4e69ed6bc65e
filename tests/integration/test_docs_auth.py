"""What the docs say each HTTP route accepts is what the code accepts.

The README's route table is read as a contract (its ``auth`` column) and every row is
tried over HTTP with each credential; the docs' per-route sections may not name a
credential their route does not take (``docs/audit-export.md`` once said the state route
took the service token).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from app.bootstrap import bootstrap
from app.entrypoints.http.web import create_app
from app.settings import load_settings
from domain.groups import GroupAction
from projections.runner import LogReader, build_read_models, catch_up
from tests.support.api import SERVICE_TOKEN, TOKEN_SECRET, bearer

ROOT = Path(__file__).resolve().parents[2]
ORGANIZER = "org-a"
DENIED = (401, 403)


@dataclass(frozen=True)
class Row:
    method: str
    path: str  # with the organizer (or an unknown id) filled in
    auth: str
    template: str  # the route with its parameters blanked: /api/organizers/{}/state


def template(route: str) -> str:
    return re.sub(r"\{\w+\}", "{}", route)


def readme_routes() -> list[Row]:
    """Each ``METHOD /path`` of the README's "HTTP routes" table with its auth cell."""
    text = (ROOT / "README.md").read_text()
    table = text.split("## HTTP routes", 1)[1].split("\n## ", 1)[0]
    rows: list[Row] = []
    for line in table.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) < 3 or not cells[0].startswith("`"):
            continue
        for method, path in re.findall(r"`(GET|POST) (/[^`\[?]*)", cells[0]):
            concrete = re.sub(r"\{(organizer_id|id)\}", ORGANIZER, path)
            concrete = re.sub(r"\{\w+\}", "x_unknown", concrete)
            rows.append(Row(method, concrete, cells[1], template(path)))
    return rows


ROWS = readme_routes()


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    folder = tmp_path_factory.mktemp("docs-auth")
    container = bootstrap(
        load_settings(
            database_url=f"sqlite:///{folder / 'ledger.sqlite3'}",
            token_secret=TOKEN_SECRET,
            service_token=SERVICE_TOKEN,
            stripe_webhook_secret="whsec_docs_auth_test_0000000000000",
        )
    )
    container.ledger.change_group(
        ORGANIZER, action=GroupAction.ACTIVATED, group_id="g1", change_id="c1",
        occurred_at=datetime(2026, 1, 1, tzinfo=UTC),
    )  # fmt: skip
    catch_up(LogReader(container.ledger), build_read_models(container.database, minimum_quantity=1))
    with TestClient(create_app(container)) as test_client:
        yield test_client
    container.close()


CREDENTIALS: dict[str, dict[str, str]] = {
    "nothing": {},
    "the service token": {"Authorization": f"Bearer {SERVICE_TOKEN}"},
    "the organizer": bearer(ORGANIZER),
    "finance": bearer("staff", "finance"),
    "ops": bearer("staff", "ops"),
}


def accepted(auth: str) -> set[str]:
    """Who the README's auth cell lets in."""
    if auth.startswith("JWT:"):
        return {who.strip() for who in auth.removeprefix("JWT:").split(",")}
    if "LEDGER_SERVICE_TOKEN" in auth:
        return {"the service token"}
    if auth == "Stripe signature":
        return set()  # only a signature, which no bearer credential is
    assert auth.startswith("—"), f"unknown auth cell {auth!r}"
    return set(CREDENTIALS)


def test_the_readme_lists_the_routes() -> None:
    assert len(ROWS) >= 18
    state = next(row for row in ROWS if row.template == "/api/organizers/{}/state")
    assert state.auth == "JWT: the organizer, finance, ops"


@pytest.mark.parametrize("row", ROWS, ids=lambda row: f"{row.method} {row.path}")
def test_each_route_takes_exactly_the_credentials_the_readme_names(
    client: TestClient, row: Row
) -> None:
    let_in = accepted(row.auth)
    for who, headers in CREDENTIALS.items():
        status = client.request(row.method, row.path, headers=headers).status_code
        if who in let_in:
            # 404 is how an organizer route hides what it denies, so it counts as denied.
            refused = DENIED + ((404,) if "the organizer" in let_in else ())
            assert status not in refused, f"{who}: {status}"
        elif row.auth == "Stripe signature":
            assert status == 400, f"{who}: {status}"  # invalid-signature
        else:
            assert status in (*DENIED, 404), f"{who} got {status}"


def route_sections() -> Iterator[tuple[str, str, str]]:
    """(file, route heading, section text) for each docs section headed by a route."""
    for path in sorted((ROOT / "docs").glob("*.md")):
        for section in re.split(r"\n(?=#{2,4} )", path.read_text()):
            heading, _, body = section.partition("\n")
            match = re.search(r"`(?:GET|POST) (/[^`\[?]*)", heading)
            if match:
                yield path.name, match[1], body


SECTIONS = list(route_sections())


def test_the_docs_have_route_sections() -> None:
    assert ("audit-export.md", "/api/organizers/{organizer_id}/state") in {
        (name, route) for name, route, _ in SECTIONS
    }


@pytest.mark.parametrize(("name", "route", "body"), SECTIONS, ids=lambda v: str(v)[:40])
def test_a_route_section_names_only_the_credential_its_route_takes(
    name: str, route: str, body: str
) -> None:
    says_service_token = re.search(r"service token|LEDGER_SERVICE_TOKEN", body, re.IGNORECASE)
    if route.startswith("/internal/"):
        assert not re.search(r"\bJWT\b", body), f"{name}: {route} takes the service token"
    else:
        assert not says_service_token, f"{name}: {route} takes a JWT, not the service token"


ROLE_WORDS = {"organizer": "the organizer", "finance": "finance", "ops": "ops"}
README_AUTH = {
    (row.method, re.sub(r"x_unknown|" + ORGANIZER, "", row.path)): row.auth for row in ROWS
}


def readme_auth(method: str, path: str) -> str:
    shape = re.sub(r"\{\w+\}", "", path)
    return README_AUTH[(method, shape)]


def role_claims() -> Iterator[tuple[str, str, str, set[str]]]:
    """Every "`METHOD /route…` (role, role)" in the docs: (file, method, route, roles)."""
    pattern = re.compile(r"`(GET|POST) (/[^`\[?]*)[^`]*` \(((?:organizer|finance|ops)(?:, \w+)*)\)")
    for path in sorted((ROOT / "docs").glob("*.md")):
        for method, route, roles in pattern.findall(path.read_text()):
            yield path.name, method, route, {ROLE_WORDS[r.strip()] for r in roles.split(",")}


CLAIMS = list(role_claims())


def test_the_docs_name_roles_for_routes() -> None:
    assert len(CLAIMS) >= 3


@pytest.mark.parametrize(("name", "method", "route", "roles"), CLAIMS, ids=str)
def test_roles_the_docs_name_for_a_route_are_the_readmes(
    name: str, method: str, route: str, roles: set[str]
) -> None:
    assert roles == accepted(readme_auth(method, route)), f"{name}: {method} {route}"


def test_the_finance_and_ops_routes_of_the_api_docs_are_staff_only() -> None:
    text = (ROOT / "docs" / "api.md").read_text()
    section = text.split("## Finance and ops routes", 1)[1].split("\n## ", 1)[0]
    listed = re.findall(r"`(GET|POST) (/[^`\[?]*)", section)
    assert len(listed) >= 5
    for method, route in listed:
        assert "the organizer" not in accepted(readme_auth(method, route)), route
