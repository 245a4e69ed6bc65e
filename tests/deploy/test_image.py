"""The production image builds, runs on a read-only root file system as its non-root UID,
migrates PostgreSQL, serves /healthz, /readyz and the SPA, and its worker stops cleanly.

Opt-in (a build takes about a minute, a first Debian base two or three more):
  LEDGER_IMAGE_TEST=1 LEDGER_TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres \
    .venv/bin/python -m pytest tests/deploy/test_image.py
It needs a running Docker engine and a Docker CLI that builds with BuildKit. Without a base
image to pull, LEDGER_IMAGE_PYTHON unset, it builds one from Debian's packages
(deploy/docker/debian-base.sh: root and debootstrap). LEDGER_IMAGE_SPA=build compiles the SPA
in the Node stage; the default takes web/dist as `make test` built it. Containers use the
host's network, so the image reaches the PostgreSQL on loopback.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest

from tests.deploy.manifests import ROOT
from tests.support.postgres import fresh_schema

TAG = "renewal-ledger:image-test"
DEBIAN_BASE = "renewal-ledger-base:bookworm"
# What the Kubernetes manifests impose (deploy/kubernetes/base/hardening/pod.yaml).
HARDENED = ["--read-only", "--tmpfs", "/tmp", "--cap-drop", "ALL"]
HARDENED += ["--security-opt", "no-new-privileges", "--network", "host"]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.postgres,
    pytest.mark.skipif(
        os.environ.get("LEDGER_IMAGE_TEST") != "1", reason="opt-in: set LEDGER_IMAGE_TEST=1"
    ),
]


def _docker_build_command() -> list[str]:
    """The first docker on PATH that builds with BuildKit (the Dockerfile needs it)."""
    seen: set[str] = set()
    for folder in os.environ.get("PATH", "").split(os.pathsep):
        cli = shutil.which("docker", path=folder)
        if cli is None or os.path.realpath(cli) in seen:
            continue
        seen.add(os.path.realpath(cli))
        if _ok([cli, "buildx", "version"]):
            return [cli, "buildx", "build", "--load"]
        version = _output([cli, "version", "--format", "{{.Client.Version}}"])
        if version and int(version.split(".")[0]) < 23:  # BuildKit built into the CLI
            return ["env", "DOCKER_BUILDKIT=1", cli, "build"]
    pytest.skip("no docker CLI with BuildKit (buildx, or a client older than 23)")


def _ok(command: list[str]) -> bool:
    return subprocess.run(command, capture_output=True, check=False, timeout=60).returncode == 0


def _output(command: list[str]) -> str:
    result = subprocess.run(command, capture_output=True, text=True, check=False, timeout=60)
    return result.stdout.strip() if result.returncode == 0 else ""


def _docker(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["docker", *args], capture_output=True, text=True, check=False, timeout=timeout
    )


def _python_base() -> str:
    configured = os.environ.get("LEDGER_IMAGE_PYTHON")
    if configured:
        return configured
    if _docker("image", "inspect", DEBIAN_BASE).returncode != 0:
        script = ROOT / "deploy" / "docker" / "debian-base.sh"
        subprocess.run([str(script), DEBIAN_BASE], check=True, timeout=900)
    return DEBIAN_BASE


@pytest.fixture(scope="module")
def image() -> str:
    if shutil.which("docker") is None or _docker("info").returncode != 0:
        pytest.skip("no Docker engine answers")
    spa = os.environ.get("LEDGER_IMAGE_SPA", "prebuilt")
    if spa == "prebuilt" and not (ROOT / "web" / "dist" / "index.html").is_file():
        pytest.fail("web/dist is not built: make web")
    build = [*_docker_build_command(), "--network", "host", "-t", TAG]
    build += ["--build-arg", f"PYTHON_IMAGE={_python_base()}", "--build-arg", f"SPA={spa}"]
    result = subprocess.run(
        [*build, str(ROOT)], capture_output=True, text=True, check=False, timeout=1200
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return TAG


@pytest.fixture
def database(postgres_url: str) -> Iterator[str]:
    if urlsplit(postgres_url).hostname not in ("127.0.0.1", "localhost"):
        pytest.skip("the image test needs LEDGER_TEST_DATABASE_URL on TCP loopback")
    with fresh_schema(postgres_url) as url:
        yield url


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _wait_for(url: str, deadline_s: float = 30) -> httpx.Response:
    deadline = time.monotonic() + deadline_s
    while True:
        try:
            return httpx.get(url, timeout=2)
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


@pytest.fixture
def container_name() -> Iterator[str]:
    name = f"ledger-image-test-{uuid.uuid4().hex[:8]}"
    yield name
    _docker("rm", "--force", name)


def test_the_image_runs_as_a_fixed_non_root_user_with_ledger_as_entrypoint(image: str) -> None:
    config = _docker(
        "image", "inspect", image, "--format", "{{.Config.User}} {{.Config.Entrypoint}}"
    )
    assert config.stdout.strip() == "10001:10001 [ledger]"
    healthcheck = _docker("image", "inspect", image, "--format", "{{.Config.Healthcheck}}")
    assert healthcheck.stdout.strip() == "<nil>"  # Kubernetes probes instead


def test_the_image_carries_no_stripe_double(image: str) -> None:
    probe = "import importlib.util; print(importlib.util.find_spec('stripe_double'))"
    found = _docker("run", "--rm", "--entrypoint", "python", image, "-c", probe)
    assert found.returncode == 0, found.stderr
    assert found.stdout.strip() == "None"
    dev = _docker("run", "--rm", image, "dev", "stripe")
    assert dev.returncode == 78  # the development install's command, not the image's
    assert "needs the development install" in dev.stderr


def test_it_migrates_then_serves_read_only(image: str, database: str, container_name: str) -> None:
    env = ["-e", f"LEDGER_DATABASE_URL={database}"]
    migrate = _docker("run", "--rm", *HARDENED, *env, image, "migrate")
    assert migrate.returncode == 0, migrate.stderr
    assert "applied" in migrate.stdout

    port = _free_port()
    serve = ["serve", "--host", "127.0.0.1", "--port", str(port)]
    started = _docker("run", "--detach", "--name", container_name, *HARDENED, *env, image, *serve)
    assert started.returncode == 0, started.stderr
    base = f"http://127.0.0.1:{port}"
    assert _wait_for(f"{base}/healthz").status_code == 200
    assert httpx.get(f"{base}/readyz", timeout=5).status_code == 200
    page = httpx.get(f"{base}/", timeout=5)
    assert page.status_code == 200
    assert "<!doctype html>" in page.text.lower()
    uid = _docker("exec", container_name, "python3", "-c", "import os; print(os.getuid())")
    assert uid.stdout.strip() == "10001"


def test_the_worker_leads_and_stops_cleanly_on_sigterm(
    image: str, database: str, container_name: str
) -> None:
    env = ["-e", f"LEDGER_DATABASE_URL={database}"]
    assert _docker("run", "--rm", *HARDENED, *env, image, "migrate").returncode == 0
    started = _docker("run", "--detach", "--name", container_name, *HARDENED, *env, image, "worker")
    assert started.returncode == 0, started.stderr
    deadline = time.monotonic() + 30
    while "this worker is the leader" not in _docker("logs", container_name).stderr:
        assert time.monotonic() < deadline, _docker("logs", container_name).stderr
        time.sleep(0.5)
    assert _docker("stop", "--time", "30", container_name).returncode == 0
    exit_code = _docker("inspect", container_name, "--format", "{{.State.ExitCode}}")
    assert exit_code.stdout.strip() == "0", _docker("logs", container_name).stderr
