"""/v1/billing_portal/configurations: what a portal session lets the customer do.

As Stripe: ``features`` is required on create; an update merges each feature given
into the stored one; configurations made through the API are never the default; a
portal session names one with ``configuration`` (an unknown or inactive one is refused,
see ``session_configuration``).
"""

from __future__ import annotations

from typing import Any

from stripe_double.errors import invalid, missing
from stripe_double.params import Params, merge_metadata
from stripe_double.router import Ctx, Route, matching, paginate, route
from stripe_double.state import DoubleState, new_id

KIND = "billing_portal.configuration"
URL = "/v1/billing_portal/configurations"
DEFAULT_SESSION_CONFIGURATION = "bpc_double_default"
_CUSTOMER_FIELDS = ("address", "email", "name", "phone", "shipping", "tax_id")
_CANCEL_MODES = ("at_period_end", "immediately")
_PRORATIONS = ("always_invoice", "create_prorations", "none")
_SUBSCRIPTION_UPDATES = ("price", "promotion_code", "quantity")


def _objects(state: DoubleState) -> dict[str, dict[str, Any]]:
    # Not one of the state's original kinds: a snapshot saved before it has none.
    return state.objects.setdefault(KIND, {})


def _features() -> dict[str, Any]:
    """Every feature off, as Stripe renders a configuration that did not mention it."""
    return {
        "customer_update": {"allowed_updates": [], "enabled": False},
        "invoice_history": {"enabled": False},
        "payment_method_update": {"enabled": False, "payment_method_configuration": None},
        "subscription_cancel": {
            "cancellation_reason": {"enabled": False, "options": []},
            "enabled": False,
            "mode": "at_period_end",
            "proration_behavior": "none",
        },
        "subscription_update": {
            "billing_cycle_anchor": None,
            "default_allowed_updates": [],
            "enabled": False,
            "products": [],
            "proration_behavior": "none",
            "schedule_at_period_end": {"conditions": []},
            "trial_update_behavior": "end_trial",
        },
    }


def _choices(p: Params, key: str, allowed: tuple[str, ...]) -> list[str]:
    values = p.get_str_list(key)
    for index, value in enumerate(values):
        if value not in allowed:
            raise invalid(
                f"Invalid {p.name(key)}[{index}]: must be one of {', '.join(allowed)}",
                param=f"{p.name(key)}[{index}]",
            )
    return values


def _enabled(p: Params, current: dict[str, Any], *, required: bool) -> None:
    enabled = p.get_bool("enabled")
    if enabled is None and required:
        raise invalid(f"Missing required param: {p.name('enabled')}.", param=p.name("enabled"))
    if enabled is not None:
        current["enabled"] = enabled


def _apply_features(features: Params, current: dict[str, Any], *, create: bool) -> None:
    """Merge each feature sent into ``current`` (validating it as Stripe does)."""
    features.reject_unknown(
        "customer_update invoice_history payment_method_update subscription_cancel"
        " subscription_pause subscription_update"
    )
    for name, allowed in (
        ("customer_update", "allowed_updates enabled"),
        ("invoice_history", "enabled"),
        ("payment_method_update", "enabled payment_method_configuration"),
        ("subscription_cancel", "cancellation_reason enabled mode proration_behavior"),
        ("subscription_pause", "enabled duration"),
        (
            "subscription_update",
            "billing_cycle_anchor default_allowed_updates enabled products"
            " proration_behavior schedule_at_period_end trial_update_behavior",
        ),
    ):
        if not features.has(name):
            continue
        p = features.get_obj(name)
        p.reject_unknown(allowed)
        target = current.setdefault(name, {"enabled": False})
        # Stripe requires `enabled` on create (but for pausing), and on update for two.
        required = (create and name != "subscription_pause") or name in {
            "invoice_history",
            "payment_method_update",
        }
        _enabled(p, target, required=required)
        if name == "customer_update" and p.has("allowed_updates"):
            target["allowed_updates"] = _choices(p, "allowed_updates", _CUSTOMER_FIELDS)
        if name == "subscription_cancel":
            _apply_cancel(p, target)
        if name == "subscription_update":
            _apply_update(p, target)
    _check_update(current["subscription_update"])


def _apply_cancel(p: Params, target: dict[str, Any]) -> None:
    mode = p.get_enum("mode", _CANCEL_MODES)
    if mode is not None:
        target["mode"] = mode
    proration = p.get_enum("proration_behavior", _PRORATIONS)
    if proration == "always_invoice" or (
        proration == "create_prorations" and target["mode"] != "immediately"
    ):
        raise invalid(
            "proration_behavior must be `none`, or `create_prorations` with mode=immediately.",
            param=p.name("proration_behavior"),
        )
    if proration is not None:
        target["proration_behavior"] = proration


def _apply_update(p: Params, target: dict[str, Any]) -> None:
    if p.has("default_allowed_updates"):
        target["default_allowed_updates"] = _choices(
            p, "default_allowed_updates", _SUBSCRIPTION_UPDATES
        )
    proration = p.get_enum("proration_behavior", _PRORATIONS)
    if proration is not None:
        target["proration_behavior"] = proration
    if p.has("products"):
        target["products"] = [
            {"prices": product.get_str_list("prices"), "product": product.req_str("product")}
            for product in p.get_list("products")
        ]


def _check_update(update: dict[str, Any]) -> None:
    if update["enabled"] and not (update["default_allowed_updates"] and update["products"]):
        raise invalid(
            "To enable subscription updates, set `default_allowed_updates` and `products`.",
            param="features[subscription_update]",
        )


def _business_profile(p: Params, current: dict[str, Any]) -> None:
    p.reject_unknown("headline privacy_policy_url terms_of_service_url")
    for key in ("headline", "privacy_policy_url", "terms_of_service_url"):
        if p.has(key):
            current[key] = p.get_str(key) or None


def _create(ctx: Ctx) -> dict[str, Any]:
    p, state = ctx.params, ctx.state
    p.reject_unknown("business_profile default_return_url features login_page metadata name")
    if not p.has("features"):
        raise invalid(
            "Missing required param: features.", param="features", code="parameter_missing"
        )
    at = state.scope_now(None)
    config: dict[str, Any] = {
        "id": new_id("bpc"),
        "object": KIND,
        "active": True,
        "application": None,
        "business_profile": {
            "headline": None,
            "privacy_policy_url": None,
            "terms_of_service_url": None,
        },
        "created": at,
        "default_return_url": p.get_str("default_return_url") or None,
        "features": _features(),
        "is_default": False,
        "livemode": False,
        "login_page": {"enabled": bool(p.get_obj("login_page").get_bool("enabled")), "url": None},
        "metadata": p.metadata() or {},
        "name": p.get_str("name") or None,
        "updated": at,
    }
    _business_profile(p.get_obj("business_profile"), config["business_profile"])
    _apply_features(p.get_obj("features"), config["features"], create=True)
    _objects(state)[config["id"]] = config
    return config


def _stored(state: DoubleState, config_id: str) -> dict[str, Any]:
    config = _objects(state).get(config_id)
    if config is None:
        raise missing(config_id, noun="configuration")
    return config


def _update(ctx: Ctx) -> dict[str, Any]:
    p, state = ctx.params, ctx.state
    p.reject_unknown("active business_profile default_return_url features login_page metadata name")
    config = _stored(state, ctx.arg())
    active = p.get_bool("active")
    if active is False and config["is_default"]:
        raise invalid("The default configuration cannot be deactivated.", param="active")
    if active is not None:
        config["active"] = active
    if p.has("default_return_url"):
        config["default_return_url"] = p.get_str("default_return_url") or None
    if p.has("name"):
        config["name"] = p.get_str("name") or None
    _business_profile(p.get_obj("business_profile"), config["business_profile"])
    # Validate on a copy: a refused update must leave the stored configuration as it was.
    features = {name: dict(value) for name, value in config["features"].items()}
    _apply_features(p.get_obj("features"), features, create=False)
    config["features"] = features
    config["metadata"] = merge_metadata(config["metadata"], p.metadata())
    config["updated"] = state.scope_now(None)
    return config


def _list(ctx: Ctx) -> dict[str, Any]:
    _objects(ctx.state)
    configs = ctx.state.newest_first(KIND)
    return paginate(ctx, matching(configs, ctx.params, "active is_default"), URL)


def _retrieve(ctx: Ctx) -> dict[str, Any]:
    return _stored(ctx.state, ctx.arg())


def session_configuration(state: DoubleState, config_id: str | None) -> str:
    """The configuration a portal session uses: the one named (which must exist and be
    active, as Stripe refuses others), else the account's default."""
    if config_id is None:
        return DEFAULT_SESSION_CONFIGURATION
    config = _objects(state).get(config_id)
    if config is None:
        raise missing(config_id, param="configuration", noun="configuration")
    if not config["active"]:
        raise invalid(f"The configuration {config_id} is not active.", param="configuration")
    return config_id


ROUTES: list[Route] = [
    route("POST", URL, _create),
    route("GET", URL, _list),
    route("GET", URL + "/{id}", _retrieve),
    route("POST", URL + "/{id}", _update),
]

__all__ = ["ROUTES", "session_configuration"]
