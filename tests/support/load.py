"""A bare asyncio HTTP/1.1 client for races: every connection is opened first, then all requests
are written at once, so the server really sees them together."""
from __future__ import annotations

import asyncio
import json
import time
from urllib.parse import urlsplit


async def _one(host: str, port: int, raw: bytes, go: asyncio.Event, timeout: float,
               timings: list | None) -> tuple[int, dict | None]:
    reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
    try:
        await go.wait()
        sent = time.perf_counter()
        writer.write(raw)
        await writer.drain()
        status = int((await asyncio.wait_for(reader.readline(), timeout)).split()[1])
        length = 0
        while (line := await asyncio.wait_for(reader.readline(), timeout)) not in (b"\r\n", b""):
            name, _, value = line.decode().partition(":")
            if name.lower() == "content-length":
                length = int(value)
        body = await asyncio.wait_for(reader.readexactly(length), timeout) if length else b""
        if timings is not None:
            timings.append(time.perf_counter() - sent)
        return status, (json.loads(body) if body else None)
    finally:
        writer.close()


def fire(url: str, bodies: list[dict], headers: dict, method: str = "POST", timeout: float = 120,
         timings: list | None = None) -> list:
    """Send one request per body, all at once; returns [(status, json) or exception]. With
    `timings`, each answered request's seconds from the common start to its answer are added."""
    parts = urlsplit(url)
    host, port, path = parts.hostname, parts.port, parts.path

    def raw(body: dict) -> bytes:
        data = json.dumps(body).encode()
        head = [f"{method} {path} HTTP/1.1", f"Host: {host}:{port}", "Content-Type: application/json",
                f"Content-Length: {len(data)}", "Connection: close", *(f"{k}: {v}" for k, v in headers.items())]
        return ("\r\n".join(head) + "\r\n\r\n").encode() + data

    async def main():
        go = asyncio.Event()
        tasks = [asyncio.create_task(_one(host, port, raw(b), go, timeout, timings)) for b in bodies]
        await asyncio.sleep(min(5.0, 0.002 * len(bodies) + 0.5))  # let every connection open
        go.set()
        return await asyncio.gather(*tasks, return_exceptions=True)

    # A loop of our own, in a thread of our own: the caller's thread may already run one (pytest
    # with Playwright's sync API does).
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, main()).result()
