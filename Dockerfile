# The production image: `ledger` as the entrypoint, as a fixed non-root UID, on a read-only
# root file system (it writes nothing outside /tmp and mounted volumes). Build with BuildKit:
#   docker build -t renewal-ledger .                     # what CI's release workflow does
# Without a registry to pull bases from, point the bases elsewhere (tests/deploy/test_image.py
# builds a Python base from Debian's packages and takes the SPA prebuilt from web/dist):
#   docker build --build-arg PYTHON_IMAGE=... --build-arg SPA=prebuilt -t renewal-ledger .
ARG PYTHON_IMAGE=python:3.11-slim-bookworm
ARG NODE_IMAGE=node:20-slim
# "build" compiles the SPA in its own Node stage; "prebuilt" copies web/dist from the context.
ARG SPA=build

# --- the single-page app ------------------------------------------------------------------
FROM ${NODE_IMAGE} AS spa-build
WORKDIR /web
COPY web/package.json web/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY web ./
RUN npm run build

FROM scratch AS spa-prebuilt
COPY web/dist /web/dist

# BuildKit builds only the stage chosen here.
FROM spa-${SPA} AS spa

# --- the Python package and its dependencies, in a virtualenv -------------------------------
FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /src
# The ledger's packages only: the Stripe test double (stripe-double/) is a development
# package, kept out of the build context too (.dockerignore).
COPY pyproject.toml README.md ./
COPY domain ./domain
COPY projections ./projections
COPY adapters ./adapters
COPY app ./app
COPY migrations ./migrations
# pip compiles every module at install: the read-only image never needs to write a .pyc.
RUN python3 -m venv /opt/ledger \
 && /opt/ledger/bin/pip install --upgrade pip \
 && /opt/ledger/bin/pip install . \
 && /opt/ledger/bin/pip uninstall --yes pip

# --- runtime: the virtualenv and the SPA; no compilers, no sources, no shell tools added ------
FROM ${PYTHON_IMAGE} AS runtime
ENV PATH=/opt/ledger/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    LEDGER_LOG_FORMAT=json \
    LEDGER_WEB_DIST=/srv/ledger/web \
    HOME=/tmp
# A numeric UID/GID (10001), so Kubernetes can check runAsNonRoot without a passwd lookup.
# /srv/ledger/var is the only place the embedded SQLite default would write: mount a volume
# there to use it; production uses PostgreSQL (LEDGER_DATABASE_URL) and writes nothing.
RUN groupadd --system --gid 10001 ledger \
 && useradd --system --uid 10001 --gid 10001 --home-dir /srv/ledger --no-create-home ledger \
 && mkdir -p /srv/ledger/var \
 && chown 10001:10001 /srv/ledger/var
COPY --from=build /opt/ledger /opt/ledger
COPY --from=spa /web/dist /srv/ledger/web
WORKDIR /srv/ledger
USER 10001:10001
EXPOSE 8000 9464
# No HEALTHCHECK: Kubernetes probes /healthz and /readyz (deploy/kubernetes/).
ENTRYPOINT ["ledger"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]
