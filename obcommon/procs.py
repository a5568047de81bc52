"""The one place that says how each process starts.

The local runner (`./ob run`), the test stack and the container images all start processes with
exactly these commands (a test checks the Dockerfiles and the Helm chart against them).
"""
SERVICES = ("identity", "offices", "booking", "notify", "audit")
# Each service's own HTTP port (health, readiness, metrics); SERVICE_PORT overrides it.
DEFAULT_PORTS = {"identity": 8101, "offices": 8102, "booking": 8103, "notify": 8104, "audit": 8105}

COMMANDS: dict[str, list[str]] = {
    **{name: ["python", "-m", "obcommon.launch", name] for name in SERVICES},
    "gateway": ["python", "-m", "gateway"],
}
MIGRATE = ["python", "-m", "obcommon.migrate"]
DEV_MAILBOX = ["python", "-m", "obcommon.devmail"]
