"""The ASGI app and ways to run it (blocking, or in a background thread for tests)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path

import uvicorn
from starlette.applications import Starlette
from starlette.routing import Route
from starlette.types import Message, Receive, Scope, Send

from stripe_double.api import RAW_SEND_KEY, REQUEST_ID_KEY, api_endpoint
from stripe_double.pages import PAGE_ROUTES
from stripe_double.persist import StateFile
from stripe_double.routes_admin import ADMIN_ROUTES
from stripe_double.runtime import Double
from stripe_double.state import new_request_id


class DoubleApp(Starlette):
    """Starlette plus two things every response needs: a `Request-Id` header, and access
    to uvicorn's raw `send` (fault injection drops connections through it)."""

    double: Double
    # Told after every request that may have changed the state (the state file's saver).
    on_change: Callable[[], None] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        request_id = new_request_id()
        scope[REQUEST_ID_KEY] = request_id
        scope[RAW_SEND_KEY] = send

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                if not any(name.lower() == b"request-id" for name, _ in headers):
                    headers.append((b"request-id", request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        await super().__call__(scope, receive, send_with_id)
        if self.on_change is not None and scope["method"] != "GET":
            self.on_change()


def create_app(
    *,
    webhook_delivery: bool = True,
    clock_start: int | None = None,
    state_file: Path | None = None,
) -> Starlette:
    """A Stripe API test double as an ASGI app; all state lives in memory, per app.

    `webhook_delivery=False` stores events without POSTing them anywhere. `clock_start`
    freezes the global clock (objects without a test clock) at that unix time; move it
    with `POST /_double/clock`. With `state_file`, the state is loaded from it (when it
    exists) and kept in it while serving (stripe-double/stripe_double/persist.py). The app's
    `state.double` holds the runtime.
    """
    double = Double(webhook_delivery=webhook_delivery, clock_start=clock_start)
    store = None if state_file is None else StateFile(state_file, double)
    if store is not None:
        store.load()  # here, not in the lifespan: a bad file stops the start in one line

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        if store is not None:
            store.start()
        try:
            yield
        finally:
            if store is not None:
                store.stop()
            double.close()

    app = DoubleApp(
        routes=[
            *ADMIN_ROUTES,
            *PAGE_ROUTES,
            Route("/v1/{rest:path}", api_endpoint, methods=["GET", "POST", "DELETE"]),
        ],
        lifespan=lifespan,
    )
    app.state.double = double
    app.double = double
    if store is not None:
        app.on_change = store.changed
    return app


def _config(app: Starlette, host: str, port: int, log_level: str = "warning") -> uvicorn.Config:
    # h11 is pinned because dropping connections relies on its request cycle's transport.
    return uvicorn.Config(
        app, host=host, port=port, http="h11", ws="none", log_level=log_level, lifespan="on"
    )


def serve(host: str = "127.0.0.1", port: int = 12111, *, state_file: Path | None = None) -> None:
    """Run the double in the foreground until interrupted (used by `ledger dev stripe`)."""
    app = create_app(state_file=state_file)
    uvicorn.Server(_config(app, host, port, log_level="info")).run()


@dataclass(frozen=True)
class RunningDouble:
    """A double served in a background thread."""

    base_url: str
    port: int
    app: Starlette

    @property
    def double(self) -> Double:
        """The in-process runtime (state, webhooks, faults), for white-box checks."""
        runtime: Double = self.app.state.double
        return runtime


@contextmanager
def running_double(
    port: int = 0,
    *,
    webhook_delivery: bool = True,
    clock_start: int | None = None,
    state_file: Path | None = None,
) -> Iterator[RunningDouble]:
    """Serve a fresh double on 127.0.0.1 (`port=0`: a free port) for the `with` block."""
    app = create_app(
        webhook_delivery=webhook_delivery, clock_start=clock_start, state_file=state_file
    )
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    bound_port = int(sock.getsockname()[1])
    # uvicorn installs no signal handlers outside the main thread.
    server = uvicorn.Server(_config(app, "127.0.0.1", bound_port))
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="stripe-double", daemon=True
    )
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the Stripe double did not start")
            time.sleep(0.01)
        yield RunningDouble(base_url=f"http://127.0.0.1:{bound_port}", port=bound_port, app=app)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
        app.state.double.close()
