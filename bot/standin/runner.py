"""Run the stand-in with uvicorn on a free local port in a background thread."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from types import TracebackType

import uvicorn

from bot.standin.server import DEFAULT_TOKEN, create_standin_app
from bot.standin.state import Workspace

START_TIMEOUT_SECONDS = 10.0


class StandinServer:
    """The stand-in on 127.0.0.1; use as a (sync or async) context manager.

    `base_url` ends in `/api/`, ready for `AsyncWebClient(base_url=...)`.
    """

    def __init__(
        self,
        state: Workspace | None = None,
        *,
        token: str = DEFAULT_TOKEN,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.state = state if state is not None else Workspace.seeded()
        self.token = token
        self.host = host
        self._requested_port = port
        self._port: int | None = None
        self._socket: socket.socket | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("the stand-in is not running: call start() first")
        return self._port

    @property
    def url(self) -> str:
        """Root URL, e.g. `http://127.0.0.1:53211/` (control API under `_standin/`)."""
        return f"http://{self.host}:{self.port}/"

    @property
    def base_url(self) -> str:
        """Web API base URL for slack_sdk, e.g. `http://127.0.0.1:53211/api/`."""
        return self.url + "api/"

    def start(self) -> StandinServer:
        if self._thread is not None:
            raise RuntimeError("the stand-in is already running")
        # Bind first so the port is known before the thread starts, and no other test takes it.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self._requested_port))
        self._socket = sock
        self._port = sock.getsockname()[1]
        config = uvicorn.Config(
            create_standin_app(self.state, token=self.token),
            log_level="warning",
            access_log=False,
            lifespan="off",
            ws="none",
            timeout_graceful_shutdown=2,
        )
        server = uvicorn.Server(config)
        self._server = server
        thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name="slack-standin", daemon=True
        )
        self._thread = thread
        thread.start()
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the Slack stand-in did not start on {self.host}")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=START_TIMEOUT_SECONDS)
        if self._socket is not None:
            self._socket.close()
        self._server = None
        self._thread = None
        self._socket = None

    def __enter__(self) -> StandinServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    async def __aenter__(self) -> StandinServer:
        # Starting waits on another thread; keep the caller's event loop free meanwhile.
        return await asyncio.to_thread(self.start)

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await asyncio.to_thread(self.stop)
