"""Browser tests' support: the built SPA, headless Chromium through Playwright, one
screenshot per step, and organizer tokens as the platform issues them.

``FakeOrganizerApi`` is a throwaway stand-in for the organizer API (canned
``app.services.organizers.models`` models, the SPA served the way the backend serves it) for
``test_browser_fake_api.py``; ``test_browser.py`` drives the real server, worker and
Stripe double.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt
import uvicorn
from playwright.sync_api import Browser, Page, ViewportSize, sync_playwright
from pydantic import BaseModel
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    RedirectResponse,
    Response,
)
from starlette.routing import Route

from app.services.organizers.models import (
    ActiveGroups,
    ChargeEstimate,
    CheckoutLink,
    EnrollmentRequest,
    Invoice,
    Invoices,
    OrganizerBilling,
    PortalLink,
    Price,
    Subscription,
    Timeline,
    TimelineEntry,
)

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "web"
DIST = WEB / "dist"
ARTIFACTS = ROOT / "test-artifacts" / "browser"

CHROMIUM = Path("/usr/bin/chromium")
# Debian's Chromium, no Playwright browser download; flags for a root, headless CI box.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
PHONE: ViewportSize = {"width": 375, "height": 740}
DESKTOP: ViewportSize = {"width": 1100, "height": 900}


def _newest_source_mtime() -> float:
    sources = [WEB / "index.html", WEB / "package-lock.json", WEB / "vite.config.ts"]
    sources += [path for path in (WEB / "src").rglob("*") if path.is_file()]
    return max(path.stat().st_mtime for path in sources)


def _npm(*args: str) -> None:
    npm = shutil.which("npm")
    if npm is None:
        msg = "npm is needed to build the SPA (web/): install Node.js 20 and npm"
        raise RuntimeError(msg)
    done = subprocess.run(
        [npm, *args], cwd=WEB, capture_output=True, text=True, timeout=600, check=False
    )
    if done.returncode != 0:
        msg = f"npm {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
        raise RuntimeError(msg)


def built_spa() -> Path:
    """``web/dist``, built first when it is missing or older than the SPA's sources, so a
    browser test never runs against a stale bundle."""
    index = DIST / "index.html"
    if index.exists() and index.stat().st_mtime >= _newest_source_mtime():
        return DIST
    installed = WEB / "node_modules" / ".package-lock.json"
    lock = WEB / "package-lock.json"
    if not installed.exists() or installed.stat().st_mtime < lock.stat().st_mtime:
        _npm("ci", "--no-audit", "--no-fund")
    _npm("run", "build")
    return DIST


@contextmanager
def chromium() -> Iterator[Browser]:
    """Headless Debian Chromium driven by Playwright."""
    if not CHROMIUM.exists():
        msg = f"{CHROMIUM} is missing: apt-get install -y chromium"
        raise RuntimeError(msg)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


class Screenshots:
    """``test-artifacts/browser/<test>/NN-step.png``, numbered in the order taken."""

    def __init__(self, page: Page, test_name: str) -> None:
        self.page = page
        self.folder = ARTIFACTS / test_name
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder.mkdir(parents=True)
        self.taken: list[Path] = []

    def take(self, step: str) -> Path:
        path = self.folder / f"{len(self.taken) + 1:02d}-{step}.png"
        self.page.screenshot(path=str(path), full_page=True)
        self.taken.append(path)
        return path


def organizer_token(secret: str, organizer_id: str, *, ttl: timedelta) -> str:
    """An HS256 JWT as the platform issues it; a negative ``ttl`` gives an expired one."""
    now = datetime.now(UTC)
    claims = {"sub": organizer_id, "role": "organizer", "iat": now, "exp": now + ttl}
    return jwt.encode(claims, secret, algorithm="HS256")


def no_horizontal_scroll(page: Page) -> bool:
    """Whether the page fits its viewport's width (readable on a phone)."""
    fits: bool = page.evaluate(
        "() => document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    )
    return fits


@contextmanager
def serve_in_thread(app: Starlette) -> Iterator[str]:
    """``app`` on a free loopback port in a background thread; yields its base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = int(sock.getsockname()[1])
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", ws="none")
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="browser-fake", daemon=True
    )
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                msg = "the fake API did not start"
                raise RuntimeError(msg)
            time.sleep(0.01)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


# --- the fake organizer API ------------------------------------------------------------

FAKE_SECRET = "browser-fake-secret-0123456789abcdef"
PERIOD_START = datetime(2025, 5, 1, tzinfo=UTC)
PERIOD_END = datetime(2025, 6, 1, tzinfo=UTC)
PRICE = Price(price_id="price_fake", unit_amount=500, currency="eur", interval="month")


def _problem(status: int, title: str, detail: str) -> JSONResponse:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    return JSONResponse(body, status_code=status, media_type="application/problem+json")


def _json(model: BaseModel) -> Response:
    return Response(model.model_dump_json(), media_type="application/json")


def _page(title: str, body: str) -> HTMLResponse:
    return HTMLResponse(f"<!doctype html><title>{title}</title><h1>{title}</h1>{body}")


def _entry(
    position: int, at: datetime, kind: str, title: str, quantity: int | None
) -> TimelineEntry:
    return TimelineEntry(
        position=position,
        seq=0,
        at=at,
        recorded_at=at,
        kind=kind,
        title=title,
        description=f"On {at:%d %b %Y}: {quantity} groups billable from the next renewal.",
        quantity=quantity,
        amount=None,
    )


@dataclass
class FakeOrganizerApi:
    """One organizer's billing, in memory. Paying on the fake checkout page enrolls it
    after ``confirm_after`` more reads (as if Stripe's webhook took that long)."""

    organizer_id: str
    groups: list[str] = field(default_factory=lambda: [f"grp-{n}" for n in range(1, 8)])
    enrolled: bool = False
    confirm_after: int | None = None
    fail_next_billing: int = 0
    history: int = 0
    return_urls: dict[str, str] = field(default_factory=dict)

    def app(self) -> Starlette:
        routes = [
            Route("/config.json", self.config),
            Route("/_fake/sign-in", lambda _: _page("Platform sign-in", "")),
            Route(
                "/_fake/portal", lambda _: _page("Billing portal", "<a href='/billing'>Back</a>")
            ),
            Route("/_fake/checkout/{session}", self.checkout, methods=["GET", "POST"]),
            Route("/api/organizers/{id}", self.billing),
            Route("/api/organizers/{id}/timeline", self.timeline),
            Route("/api/organizers/{id}/invoices", self.invoices),
            Route("/api/organizers/{id}/enrollment", self.enroll, methods=["POST"]),
            Route("/api/organizers/{id}/portal-session", self.portal, methods=["POST"]),
            Route("/{path:path}", self.spa),
        ]
        return Starlette(routes=routes)

    async def config(self, request: Request) -> Response:
        base = str(request.base_url).rstrip("/")
        return JSONResponse({"signInUrl": f"{base}/_fake/sign-in", "apiBase": ""})

    async def spa(self, request: Request) -> Response:
        """The backend's contract: files from web/dist, else index.html (not under /api)."""
        path: str = request.path_params["path"]
        if path.startswith("api/"):
            return _problem(404, "Not Found", f"no route /{path}")
        file = (DIST / path).resolve()
        if path and file.is_file() and file.is_relative_to(DIST.resolve()):
            return FileResponse(file)
        return FileResponse(DIST / "index.html", headers={"Cache-Control": "no-cache"})

    def _denied(self, request: Request) -> Response | None:
        """The real API's rules: 401 for a bad or expired token, 404 for another id."""
        _, _, token = request.headers.get("authorization", "").partition(" ")
        try:
            claims = jwt.decode(token, FAKE_SECRET, algorithms=["HS256"])
        except jwt.ExpiredSignatureError:
            return _problem(401, "Unauthorized", "the token has expired")
        except jwt.InvalidTokenError:
            return _problem(401, "Unauthorized", "the token is invalid")
        organizer_id = request.path_params["id"]
        if organizer_id != claims.get("sub") or organizer_id != self.organizer_id:
            return _problem(404, "Organizer not found", f"no organizer {organizer_id!r}")
        return None

    def _state(self) -> OrganizerBilling:
        count = len(self.groups)
        subscription = (
            Subscription(
                subscription_id="sub_fake",
                status="active",
                billed_quantity=7,
                current_period_start=PERIOD_START,
                current_period_end=PERIOD_END,
            )
            if self.enrolled
            else None
        )
        return OrganizerBilling(
            organizer_id=self.organizer_id,
            enrollment_status="active" if self.enrolled else "not_enrolled",
            subscription=subscription,
            active_groups=ActiveGroups(count=count, ids=self.groups),
            billable_quantity=count,
            billed_quantity=7 if self.enrolled else None,
            next_renewal_at=PERIOD_END if self.enrolled else None,
            price=PRICE,
            estimated_next_charge=ChargeEstimate(
                quantity=count,
                unit_amount=500,
                subtotal=500 * count,
                tax=0,
                total=500 * count,
                currency="eur",
                source="price",
            ),
            drift=False,
            last_sync=None,
        )

    async def billing(self, request: Request) -> Response:
        if (denied := self._denied(request)) is not None:
            return denied
        if self.fail_next_billing > 0:
            self.fail_next_billing -= 1
            return _problem(503, "Store unavailable", "The ledger's database is not reachable.")
        if self.confirm_after is not None:
            self.confirm_after -= 1
            if self.confirm_after <= 0:
                self.enrolled, self.confirm_after = True, None
        return _json(self._state())

    def _entries(self) -> list[TimelineEntry]:
        """Newest first: a closed group (7 left), then ``history`` older group openings."""
        closed = _entry(1000, PERIOD_START + timedelta(days=2), "group_deactivated", "", 7)
        entries = [closed.model_copy(update={"title": "Group berlin-hikers closed"})]
        for n in range(self.history):
            at = PERIOD_START - timedelta(days=n + 1)
            entries.append(_entry(999 - n, at, "group_activated", f"Group grp-{n} opened", 8))
        return entries

    async def timeline(self, request: Request) -> Response:
        if (denied := self._denied(request)) is not None:
            return denied
        entries = self._entries() if self.enrolled else []
        start = int(request.query_params.get("cursor") or 0)
        limit = int(request.query_params.get("limit") or 20)
        page = entries[start : start + limit]
        more = str(start + limit) if start + limit < len(entries) else None
        return _json(Timeline(entries=page, next_cursor=more))

    async def invoices(self, request: Request) -> Response:
        if (denied := self._denied(request)) is not None:
            return denied
        paid = Invoice(
            invoice_id="in_fake_1",
            status="paid",
            billing_reason="subscription_create",
            period_start=PERIOD_START,
            period_end=PERIOD_START,
            quantity=8,
            subtotal=4000,
            tax=0,
            total=4000,
            currency="eur",
        )
        return _json(Invoices(invoices=[paid] if self.enrolled else [], next_cursor=None))

    async def enroll(self, request: Request) -> Response:
        if (denied := self._denied(request)) is not None:
            return denied
        if self.enrolled:
            return _problem(409, "Already enrolled", f"{self.organizer_id} is enrolled")
        body = EnrollmentRequest.model_validate_json(await request.body())
        self.return_urls = {"success": body.success_url or "", "cancel": body.cancel_url or ""}
        base = str(request.base_url).rstrip("/")
        link = CheckoutLink(
            url=f"{base}/_fake/checkout/cs_fake", session_id="cs_fake", quantity=7, reused=False
        )
        return _json(link)

    async def checkout(self, request: Request) -> Response:
        if request.method == "GET":
            form = "<form method='post'><button>Pay</button></form>"
            return _page("Fake checkout", f"{form}<a href='{self.return_urls['cancel']}'>Back</a>")
        self.confirm_after = 3
        success = self.return_urls["success"].replace("{CHECKOUT_SESSION_ID}", "cs_fake")
        return RedirectResponse(success, status_code=303)

    async def portal(self, request: Request) -> Response:
        if (denied := self._denied(request)) is not None:
            return denied
        base = str(request.base_url).rstrip("/")
        return _json(PortalLink(url=f"{base}/_fake/portal"))
