# syntax=docker/dockerfile:1
# The audit service. Build from the repository root:
#   docker build -f docker/audit.Dockerfile -t office-booker-audit .
# The start command is obcommon/procs.py COMMANDS["audit"]; tests/deploy/test_commands.py checks
# that this file, the Helm chart and procs.py agree. All five service images hold every service's
# code (services import each other's contracts) but start only their own.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

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
RUN find app -depth -type d \( -name tests -o -name __pycache__ \) -exec rm -rf {} + \
 && /venv/bin/python -m compileall -q app

FROM ${PYTHON_IMAGE}
RUN groupadd --system --gid 10001 office-booker \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin office-booker
COPY --from=build /venv /venv
COPY --from=build /src/app /app
ENV PATH=/venv/bin:$PATH \
    PYTHONPATH=/app \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    SERVICE_PORT=8105
WORKDIR /app
USER 10001:10001
EXPOSE 8105
CMD ["python", "-m", "obcommon.launch", "audit"]
