"""The hosted pages: Checkout (with a "Pay" button) and the billing portal."""

from __future__ import annotations

from html import escape
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from stripe_double.checkout_card import FIELDS_HTML, card_problem
from stripe_double.checkout_tax import fields_html
from stripe_double.errors import StripeError
from stripe_double.invoices import TIMES, money
from stripe_double.routes_checkout import complete_session
from stripe_double.runtime import Double


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    html = (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>{escape(title)}</title></head><body>"
        f"<h1>{escape(title)}</h1>{body}</body></html>"
    )
    return HTMLResponse(html, status_code=status)


def _checkout_form(session: dict[str, Any], lines: list[dict[str, Any]], note: str = "") -> str:
    rows = "".join(
        f"<li>{int(li['quantity'])} {TIMES} {escape(str(li['price']['product']))} at "
        f"{escape(money(int(li['price']['unit_amount']), li['price']['currency']))}</li>"
        for li in lines
    )
    tax = session["total_details"]["amount_tax"]
    cancel = session.get("cancel_url")
    cancel_link = f"<p><a href='{escape(cancel)}'>Cancel</a></p>" if cancel else ""
    return (
        f"{note}<ul>{rows}</ul>"
        f"<p>Tax: {escape(money(tax, session['currency']))}</p>"
        f"<p>Total: <strong>{escape(money(session['amount_total'], session['currency']))}"
        "</strong> per period</p>"
        f"<form method='post' action='/_double/checkout/{escape(session['id'])}'>"
        f"{FIELDS_HTML}{fields_html(session)}<button type='submit' id='pay'>Pay</button></form>"
        f"{cancel_link}"
    )


def _success_target(session: dict[str, Any]) -> str | None:
    url = session.get("success_url")
    if not url:
        return None
    return str(url).replace("{CHECKOUT_SESSION_ID}", session["id"])


async def checkout_page(request: Request) -> Response:
    """GET shows the session; POST pays it and redirects (303) to success_url."""
    double: Double = request.app.state.double
    session_id = request.path_params["session_id"]
    state = double.state
    card = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    with state.lock:
        session = state.find("checkout.session", session_id)
        if session is None:
            return _page("Checkout session not found", "", status=404)
        lines = state.checkout_items[session_id]["line_items"]
        if session["status"] == "expired":  # Stripe's page: no longer active, nothing to pay
            return _page("This checkout session has expired", "")
        if request.method == "GET":
            if session["status"] == "complete":
                return _page("Already paid", "<p>This checkout session is complete.</p>")
            return _page("Stripe double checkout", _checkout_form(session, lines))
        state.request = None
        try:
            if (declined := card_problem(card)) is not None:
                raise declined
            session = complete_session(state, session_id, card)
        except StripeError as err:
            note = f"<p class='error' role='alert'>{escape(err.message)}</p>"
            return _page("Payment failed", _checkout_form(session, lines, note), status=402)
        target = _success_target(session)
    if target is None:
        return _page("Payment complete", "<p>Thanks! The subscription is active.</p>")
    return RedirectResponse(target, status_code=303)


async def portal_page(request: Request) -> Response:
    """A read-only billing portal: the customer's subscriptions and a link back."""
    double: Double = request.app.state.double
    state = double.state
    with state.lock:
        session = state.find("billing_portal.session", request.path_params["session_id"])
        if session is None:
            return _page("Portal session not found", "", status=404)
        subs = [
            s
            for s in state.newest_first("subscription")
            if s["customer"] == session["customer"] and s["status"] != "canceled"
        ]
        rows = "".join(
            f"<li>{escape(s['id'])}: {escape(s['status'])}, "
            + ", ".join(
                f"{int(i['quantity'])} {TIMES} {escape(str(i['price']['id']))}"
                for i in s["items"]["data"]
            )
            + "</li>"
            for s in subs
        )
    back = session.get("return_url")
    link = f"<p><a id='return' href='{escape(back)}'>Return</a></p>" if back else ""
    return _page("Stripe double billing portal", f"<ul>{rows}</ul>{link}")


PAGE_ROUTES = [
    Route("/_double/checkout/{session_id}", checkout_page, methods=["GET", "POST"]),
    Route("/_double/portal/{session_id}", portal_page, methods=["GET"]),
]
