"""Read docker/<process>.Dockerfile with dockerfile-parse."""
from __future__ import annotations

import json

from .chart import DOCKER


def dockerfile_path(process: str):
    return DOCKER / f"{process}.Dockerfile"


def parse(process: str):
    from dockerfile_parse import DockerfileParser

    return DockerfileParser(path=str(dockerfile_path(process)))


def stages(process: str) -> list[list[dict]]:
    """The instructions of each stage (FROM first), comments left out."""
    result: list[list[dict]] = []
    for item in parse(process).structure:
        if item["instruction"] == "FROM":
            result.append([])
        if result and item["instruction"] != "COMMENT":
            result[-1].append(item)
    return result


def final_stage(process: str) -> dict[str, list[str]]:
    """{instruction: [values]} of the last stage: what the image runs."""
    found: dict[str, list[str]] = {}
    for item in stages(process)[-1]:
        found.setdefault(item["instruction"], []).append(item["value"])
    return found


def exec_form(value: str) -> list[str]:
    """CMD/ENTRYPOINT in exec (JSON) form; the shell form would put /bin/sh in front."""
    parsed = json.loads(value)
    assert isinstance(parsed, list) and all(isinstance(p, str) for p in parsed), value
    return parsed
