"""One place defines how each process starts (obcommon/procs.py); the local runner uses it, and
so must the container images and the Helm chart."""
import pytest

from obcommon import procs

from .chart import VALUES_FILES, pod_spec
from .dockerfiles import dockerfile_path, exec_form, final_stage

PROCESSES = sorted(procs.COMMANDS)


def test_procs_defines_the_gateway_and_every_service():
    assert set(procs.COMMANDS) == {"gateway", *procs.SERVICES}


@pytest.mark.parametrize("process", PROCESSES)
def test_dockerfile_starts_the_process_with_the_procs_command(process):
    assert dockerfile_path(process).is_file(), f"missing docker/{process}.Dockerfile"
    stage = final_stage(process)
    assert "ENTRYPOINT" not in stage, "the command is CMD alone, so the chart can replace it"
    [cmd] = stage["CMD"]
    assert exec_form(cmd) == procs.COMMANDS[process]


@pytest.mark.parametrize("values_name", VALUES_FILES)
def test_chart_starts_each_process_with_the_procs_command(rendered, values_name):
    started = {}
    for m in rendered[values_name]:
        if m.kind == "Deployment" and m.component in procs.COMMANDS:
            [container] = pod_spec(m)["containers"]
            assert "args" not in container
            started[m.component] = container["command"]
    assert started == procs.COMMANDS


@pytest.mark.parametrize("values_name", VALUES_FILES)
def test_chart_runs_the_procs_migrate_command(rendered, values_name):
    [job] = [m for m in rendered[values_name] if m.kind == "Job" and m.component == "migrate"]
    [container] = pod_spec(job)["containers"]
    assert container["command"] == procs.MIGRATE
