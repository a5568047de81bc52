"""The container images: multi-stage, slim, non-root, nothing but the runtime in the
final image, no HEALTHCHECK, and every package the code imports installed."""
import ast
import re
import sys
from importlib import metadata

import pytest

from obcommon import procs

from .chart import REPO
from .dockerfiles import final_stage, parse, stages

PROCESSES = sorted(procs.COMMANDS)
# What the images install: requirements.txt up to its "# tests" line, without these two, which only
# the local runner (./ob run) uses. Each Dockerfile says the same in its RUN line (checked below).
LOCAL_ONLY = ("honcho", "pgserver")
RUNTIME_FILTER = "sed '/^# tests/,$d' requirements.txt | grep -v -E '^(honcho|pgserver)=='"
PACKAGES = ("obcommon", "services", "gateway")


@pytest.mark.parametrize("process", PROCESSES)
def test_image_is_multi_stage_slim_and_runs_as_non_root(process):
    all_stages = stages(process)
    assert len(all_stages) >= 2, "build in one stage, copy the result into a clean one"
    assert "slim" in parse(process).baseimage
    final = final_stage(process)
    [user] = final["USER"]
    assert user.split(":")[0] not in ("", "0", "root")
    assert "HEALTHCHECK" not in final, "Kubernetes probes check health"
    for run in final.get("RUN", []):
        assert not re.search(r"apt-get|apk add|pip install|npm|gcc|make", run), \
            f"nothing is installed or built in the final stage: {run}"


@pytest.mark.parametrize("process", PROCESSES)
def test_image_port_matches_the_process(process):
    final = final_stage(process)
    envs = parse(process).envs
    if process == "gateway":
        assert envs["GATEWAY_PORT"] == "8080" and final["EXPOSE"] == ["8080"]
    else:
        port = str(procs.DEFAULT_PORTS[process])
        assert envs["SERVICE_PORT"] == port and final["EXPOSE"] == [port]


@pytest.mark.parametrize("process", PROCESSES)
def test_image_installs_the_runtime_requirements(process):
    runs = [item["value"] for stage in stages(process) for item in stage if item["instruction"] == "RUN"]
    assert any(RUNTIME_FILTER in run for run in runs)


def test_gateway_image_serves_the_built_web_app():
    final = final_stage("gateway")
    assert "--from=web /web/dist /app/web/dist" in final["COPY"]
    [web_stage] = [s for s in stages("gateway") if s[0]["value"].endswith(" AS web")]
    assert any("npm ci" in i["value"] and "npm run build" in i["value"] for i in web_stage)


def runtime_requirements() -> set[str]:
    names = set()
    for line in (REPO / "requirements.txt").read_text().splitlines():
        if line.startswith("# tests"):
            break
        line = line.split("#")[0].strip()
        if line:
            name = re.split(r"[\[=<>~! ]", line, maxsplit=1)[0]
            if name not in LOCAL_ONLY:
                names.add(canonical(name))
    return names


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def with_dependencies(names: set[str]) -> set[str]:
    """The distributions `names` install, their dependencies included (as installed here)."""
    seen, todo = set(), list(names)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        try:
            requires = metadata.requires(name) or []
        except metadata.PackageNotFoundError:
            continue
        for requirement in requires:
            if "extra ==" in requirement and "binary" not in requirement:
                continue  # optional extras (psycopg[binary] is the one the project asks for)
            todo.append(canonical(re.split(r"[\[=<>~!;( ]", requirement, maxsplit=1)[0]))
    return seen


def imported_modules() -> set[str]:
    """Top-level modules imported by the application code (tests left out)."""
    modules = set()
    for package in PACKAGES:
        for path in (REPO / package).rglob("*.py"):
            if "tests" in path.relative_to(REPO).parts:
                continue
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if isinstance(node, ast.Import):
                    modules.update(alias.name.split(".")[0] for alias in node.names)
                elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    modules.add(node.module.split(".")[0])
    return modules - set(sys.stdlib_module_names) - set(PACKAGES)


def test_images_install_every_package_the_code_imports():
    installed = with_dependencies(runtime_requirements())
    providers = metadata.packages_distributions()
    missing = {}
    for module in sorted(imported_modules()):
        distributions = {canonical(d) for d in providers.get(module, [])}
        if distributions and not distributions & installed:
            missing[module] = sorted(distributions)
    assert not missing, (
        f"imported by the application but not installed in the images: {missing}. List the package "
        "in requirements.txt above the '# tests' line (the images install only that part).")
