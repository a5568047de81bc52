"""The web app's API types, generated from the gateway's OpenAPI document (`/api/openapi.json`).

    .venv/bin/python -m tools.api_types          # rewrite web/src/api-types.ts
    .venv/bin/python -m tools.api_types --check  # exit 1 when it differs from the document

The document is built from the Flask app itself (no broker, no services), exactly as the gateway
serves it; `openapi-typescript` (a devDependency of web/) turns it into TypeScript.
`tests/test_api_types.py` fails when the committed file and the document drift apart.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
WEB = REPO / "web"
TYPES = WEB / "src" / "api-types.ts"


def document() -> dict:
    """What `GET /api/openapi.json` answers."""
    from gateway.app import create_app
    from obcommon.config import AppConfig, Env

    env = Env.from_environ({"SECRET_KEY": "api-types-generator-key", "AMQP_URI": "amqp://nowhere:1/"})
    app = create_app(AppConfig(), env, listen=False)
    try:
        return app.test_client().get("/api/openapi.json").get_json()
    finally:
        app.extensions["ob"].rpc.close()


def generate(doc: dict) -> str:
    """The TypeScript of `doc`, as openapi-typescript writes it."""
    with tempfile.TemporaryDirectory() as tmp:
        source, target = Path(tmp) / "openapi.json", Path(tmp) / "api-types.ts"
        source.write_text(json.dumps(doc, indent=2))
        subprocess.run(["npx", "--no-install", "openapi-typescript", str(source), "--output", str(target)],
                       cwd=WEB, check=True, capture_output=True, text=True, timeout=120)
        return target.read_text()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report whether web/src/api-types.ts is current")
    args = parser.parse_args(argv)
    text = generate(document())
    if args.check:
        current = TYPES.read_text() if TYPES.exists() else ""
        if current != text:
            print(f"{TYPES.relative_to(REPO)} differs from /api/openapi.json: run python -m tools.api_types")
            return 1
        return 0
    TYPES.write_text(text)
    print(f"wrote {TYPES.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
