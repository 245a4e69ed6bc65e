"""Each kustomize target is rendered once per session and shared by the tests."""

from __future__ import annotations

import pytest

from tests.deploy.manifests import TARGETS, Manifest, render


@pytest.fixture(scope="session")
def rendered() -> dict[str, list[Manifest]]:
    """target ("base", "overlays/production", ...) → its rendered manifests."""
    return {target: render(target) for target in TARGETS}


@pytest.fixture(params=TARGETS)
def docs(request: pytest.FixtureRequest, rendered: dict[str, list[Manifest]]) -> list[Manifest]:
    """Every rendered target in turn: the base and each overlay."""
    return rendered[request.param]
