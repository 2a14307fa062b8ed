"""A gateway of the test's own, served over real HTTP on a free loopback port, for clients that need a URL
(the IIIF validator, an OAI-PMH harvester, a browser): the same app as production, with the test's settings
(its own index prefix, say), talking to the real services."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import uvicorn

from services.gateway.app import create_app, warm_models
from services.settings import Settings


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def live_gateway(settings: Settings) -> Iterator[str]:
    """Serve `create_app(settings)` until the block ends; yields its base URL. The settings' public_url is
    set to that URL, so links the gateway writes point at it."""
    warm_models(settings)  # before serving: a first request must not wait seconds for the bridge or an encoder
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    gateway = settings.gateway.model_copy(update={"port": port, "public_url": base})
    app = create_app(settings.model_copy(update={"gateway": gateway}))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError(f"the test gateway did not start on {base}")
        time.sleep(0.05)
    try:
        yield base
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def wait_ready(base: str) -> None:
    httpx.get(base + "/healthz", timeout=10).raise_for_status()
