# integrations-mcp in a container. Build: docker build -t integrations-mcp .
#   stdio (default):   docker run -i --rm -e REVCENT_API_KEY integrations-mcp
#   streamable HTTP:   docker run --rm -p 8000:8000 -e INTEGRATIONS_TRANSPORT=http -e REVCENT_API_KEY \
#                        -e INTEGRATIONS_ALLOWED_HOSTS=mcp.example.com integrations-mcp
#   try it, no account: docker run -i --rm integrations-mcp --sandbox

FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY src ./src
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim
# httpx2 verifies TLS against the system trust store.
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
RUN useradd --create-home --uid 10001 mcp
USER mcp
# In a container the HTTP listener must bind all interfaces; Host/Origin checks still apply
# (loopback always, plus INTEGRATIONS_ALLOWED_HOSTS / INTEGRATIONS_ALLOWED_ORIGINS).
ENV INTEGRATIONS_TRANSPORT=stdio \
    INTEGRATIONS_HOST=0.0.0.0 \
    INTEGRATIONS_PORT=8000 \
    PYTHONUNBUFFERED=1
EXPOSE 8000
ENTRYPOINT ["integrations-mcp", "serve"]
