# integrations-mcp in a container. Build: docker build -t integrations-mcp .
#   stdio (default):   docker run -i --rm -e REVCENT_API_KEY integrations-mcp
#   streamable HTTP:   compose.yaml (bearer token from a secret file), or see docs/deployment.md
#   try it, no account: docker run -i --rm integrations-mcp --sandbox
#   stdio, with the form/approval pages published: add -p 127.0.0.1:8765:8765 -e INTEGRATIONS_FORMS_HOST=0.0.0.0
#     -e INTEGRATIONS_FORMS_PORT=8765 (docs/deployment.md)

FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md LICENSE ./
COPY packaging/constraints.txt ./packaging/
COPY src ./src
# The project's wheel and every dependency's (with the postgres extra, for replicas sharing PostgreSQL, and the telemetry extra: OTLP export and /metrics, docs/operations.md), at the
# exact versions of packaging/constraints.txt.
RUN pip wheel --no-cache-dir --wheel-dir /wheels -c packaging/constraints.txt ".[postgres,telemetry]"

FROM python:3.11-slim
ARG VERSION=0.1.0
# OCI annotations; the MCP registry checks io.modelcontextprotocol.server.name against server.json's name.
LABEL io.modelcontextprotocol.server.name="io.github.integrations-mcp/integrations-mcp" \
      org.opencontainers.image.title="integrations-mcp" \
      org.opencontainers.image.description="MCP server that sets up RevCent and CxEngage integrations safely." \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="MIT" \
      org.opencontainers.image.source="https://github.com/integrations-mcp/integrations-mcp" \
      org.opencontainers.image.url="https://github.com/integrations-mcp/integrations-mcp#readme" \
      org.opencontainers.image.documentation="https://github.com/integrations-mcp/integrations-mcp#docker"
# httpx2 verifies TLS against the system trust store.
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir --no-index --find-links /wheels "integrations-mcp[postgres,telemetry]" && rm -rf /wheels
RUN useradd --create-home --uid 10001 mcp
USER mcp
# The server's state (the default SQLite file) lives here; mount a volume on it to keep it across restarts.
RUN mkdir -p /home/mcp/.local/share
# In a container the HTTP listener must bind all interfaces: that needs a bearer token (INTEGRATIONS_AUTH_TOKEN or
# INTEGRATIONS_AUTH_TOKENS_FILE) or OAuth, and Host/Origin checks still apply (loopback always, plus
# INTEGRATIONS_ALLOWED_HOSTS / INTEGRATIONS_ALLOWED_ORIGINS). Under stdio the bind address is unused.
ENV INTEGRATIONS_TRANSPORT=stdio \
    INTEGRATIONS_HOST=0.0.0.0 \
    INTEGRATIONS_PORT=8000 \
    PYTHONUNBUFFERED=1
EXPOSE 8000
# /healthz exists on the HTTP transport only (no auth, no secrets). Under stdio there is nothing to probe: the
# container lives exactly as long as the client's session, so the check passes.
HEALTHCHECK --interval=30s --timeout=5s --start-period=15s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; os.environ.get('INTEGRATIONS_TRANSPORT') == 'http' and urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('INTEGRATIONS_PORT', '8000'), timeout=4)"]
ENTRYPOINT ["integrations-mcp", "serve"]
