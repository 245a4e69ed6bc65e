# Production image: `ledger serve` as a non-root user, with the built SPA.
# Not built in this workplace (no Docker engine here); reviewed by eye. See README.

# --- the single-page app ------------------------------------------------------------------
FROM node:20-slim AS web
WORKDIR /web
COPY web/package.json web/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY web ./
RUN npm run build

# --- the Python package and its dependencies ------------------------------------------------
FROM python:3.11-slim AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY domain ./domain
COPY projections ./projections
COPY adapters ./adapters
COPY app ./app
COPY migrations ./migrations
RUN python -m venv /opt/ledger \
 && /opt/ledger/bin/pip install --upgrade pip \
 && /opt/ledger/bin/pip install .

# --- runtime: the virtualenv and the SPA, no compilers, no sources ----------------------------
FROM python:3.11-slim AS runtime
ENV PATH=/opt/ledger/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    LEDGER_WEB_DIST=/srv/ledger/web
RUN groupadd --system ledger && useradd --system --gid ledger --home-dir /srv/ledger ledger \
 && mkdir -p /srv/ledger/var && chown -R ledger:ledger /srv/ledger
COPY --from=build /opt/ledger /opt/ledger
COPY --from=web /web/dist /srv/ledger/web
WORKDIR /srv/ledger
USER ledger
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz').status != 200)"
# In production set LEDGER_DATABASE_URL=postgresql://... and run `ledger migrate` as a
# release step; the embedded SQLite default is for development.
CMD ["ledger", "serve", "--host", "0.0.0.0", "--port", "8000"]
