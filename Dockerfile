# syntax=docker/dockerfile:1
#
# Billing ledger application image. One image, four roles chosen by the command:
#   ledger db migrate | ledger serve ... | ledger relay ... | ledger project ...
# (see compose.yaml for how each role is run).
#
# Build:  docker build -t billing-ledger:local .
# The Python dependencies come from uv.lock only (`uv sync --frozen`): the image never
# resolves versions on its own, so it runs exactly what CI tested.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm
# Keep in step with the uv that writes uv.lock (lock revision compatibility).
ARG UV_VERSION=0.13.9

FROM ghcr.io/astral-sh/uv:${UV_VERSION} AS uv

# --------------------------------------------------------------------------- builder
FROM ${PYTHON_IMAGE} AS builder

COPY --from=uv /uv /uvx /bin/

ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PYTHON=/usr/local/bin/python3.11 \
    UV_PROJECT_ENVIRONMENT=/app/.venv

WORKDIR /app

# 1) Third-party dependencies only: this layer is rebuilt when the lock changes, not on
#    every source edit.
RUN --mount=type=cache,target=/root/.cache/uv \
    --mount=type=bind,source=pyproject.toml,target=pyproject.toml \
    --mount=type=bind,source=uv.lock,target=uv.lock \
    uv sync --frozen --no-dev --no-install-project

# 2) The project itself. It stays an (editable) install rooted at /app, so the runtime
#    layout is the repository layout: top-level `migrations/` resolves the same way
#    (relative to the package or to the working directory) as in development.
COPY . /app
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev \
 && /app/.venv/bin/python -m compileall -q -j 0 ledger commands queries projections adapters

# --------------------------------------------------------------------------- runtime
FROM ${PYTHON_IMAGE} AS runtime

LABEL org.opencontainers.image.title="billing-ledger" \
      org.opencontainers.image.description="Event-sourced billing ledger (API, relay, projector, migrations)" \
      org.opencontainers.image.licenses="Apache-2.0"

RUN groupadd --system --gid 10001 ledger \
 && useradd --system --uid 10001 --gid ledger --create-home --home-dir /home/ledger \
        --shell /usr/sbin/nologin ledger

ENV PATH=/app/.venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    LEDGER_LOG_JSON=true

WORKDIR /app

# Owned by root and only readable by the service user: the code cannot be modified at
# run time (compose also mounts the root filesystem read-only).
COPY --from=builder /app /app

USER 10001:10001

# 8000: HTTP API (ledger serve); 9100: Prometheus metrics (ledger relay / ledger project).
EXPOSE 8000 9100

ENTRYPOINT ["ledger"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]
