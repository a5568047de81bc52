# syntax=docker/dockerfile:1
# The gateway: REST API, the built web app, health and metrics. Build from the repository root:
#   docker build -f docker/gateway.Dockerfile -t office-booker-gateway .
# The start command is obcommon/procs.py COMMANDS["gateway"]; tests/deploy/test_commands.py checks
# that this file, the Helm chart and procs.py agree. The chart also runs the migrations
# (`python -m obcommon.migrate`) and `helm test` with this image: it holds every service's code.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm
ARG NODE_IMAGE=node:20-slim

# The web app (web/package.json `build` script) -> /web/dist.
FROM ${NODE_IMAGE} AS web
WORKDIR /web
COPY web/ ./
RUN rm -rf node_modules dist \
 && npm ci --no-audit --no-fund \
 && npm run build \
 && test -f dist/index.html

FROM ${PYTHON_IMAGE} AS build
WORKDIR /src
# Runtime dependencies only: requirements.txt lists the test tools after its "# tests" line, and
# honcho and pgserver serve only the local runner (tests/deploy/test_images.py checks the rest).
COPY requirements.txt ./
RUN sed '/^# tests/,$d' requirements.txt | grep -v -E '^(honcho|pgserver)==' > runtime-requirements.txt \
 && python -m venv /venv \
 && /venv/bin/pip install --no-cache-dir --disable-pip-version-check -r runtime-requirements.txt
COPY obcommon/ app/obcommon/
COPY services/ app/services/
COPY gateway/ app/gateway/
RUN find app -depth -type d \( -name tests -o -name __pycache__ \) -exec rm -rf {} + \
 && /venv/bin/python -m compileall -q app

FROM ${PYTHON_IMAGE}
RUN groupadd --system --gid 10001 office-booker \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin office-booker
COPY --from=build /venv /venv
COPY --from=build /src/app /app
COPY --from=web /web/dist /app/web/dist
ENV PATH=/venv/bin:$PATH \
    PYTHONPATH=/app \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    GATEWAY_PORT=8080
WORKDIR /app
USER 10001:10001
EXPOSE 8080
CMD ["python", "-m", "gateway"]
