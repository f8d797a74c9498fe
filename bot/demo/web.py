"""The demo page's HTTP server: the page, its live updates (SSE), user actions and controls."""

from __future__ import annotations

import asyncio
import json
import signal
import socket
from collections.abc import AsyncIterator, Callable
from importlib import resources
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response, StreamingResponse

from bot.demo.page import ControlError, DemoPage, Restarting, demo_page
from bot.demo.run import quiet_server
from bot.standin import page
from bot.standin.client import InteractionError, Outcome
from bot.standin.page_text import WORDS
from bot.standin.state import StandinError

POLL_SECONDS = 0.1
HEARTBEAT_SECONDS = 15.0
STATIC = {"page.js": "text/javascript", "page.css": "text/css"}


def _answer(outcome: Outcome) -> Response:
    body: dict[str, Any] = {"ok": outcome.status == 200 and not outcome.problem}
    body["status"] = outcome.status
    if outcome.errors:
        body["errors"] = dict(outcome.errors)
    if outcome.problem:
        body["problem"] = outcome.problem
    return JSONResponse(body)


def _refused(message: str) -> Response:
    return JSONResponse({"ok": False, "problem": message}, status_code=400)


async def _body(request: Request) -> dict[str, Any]:
    try:
        parsed = json.loads(await request.body() or b"{}")
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ControlError(f"the body is not JSON: {exc}") from exc
    if not isinstance(parsed, dict):
        raise ControlError("the body must be a JSON object")
    return parsed


def _text(body: dict[str, Any], key: str) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not value:
        raise ControlError(f"{key} is missing")
    return value


def create_page_app(demo: DemoPage) -> FastAPI:
    """The page at `/`; everything a click does goes through the stand-in's signed player."""
    app = FastAPI(title="mqlbot demo", docs_url=None, redoc_url=None, openapi_url=None)

    @app.exception_handler(ControlError)
    async def control_error(_request: Request, exc: ControlError) -> Response:
        return _refused(str(exc))

    @app.exception_handler(InteractionError)
    async def interaction_error(_request: Request, exc: InteractionError) -> Response:
        return _refused(str(exc))

    @app.exception_handler(StandinError)
    async def standin_error(_request: Request, exc: StandinError) -> Response:
        return _refused(exc.error)

    @app.exception_handler(Restarting)
    async def restarting(request: Request, exc: Restarting) -> Response:
        if request.url.path == "/":  # the page itself: shown again once the bot is back
            words = WORDS[demo.language]
            return HTMLResponse(
                f'<!doctype html><html lang="{demo.language}"><meta charset="utf-8">'
                f'<meta http-equiv="refresh" content="1"><title>{words["title"]}</title>'
                f"<p>{words['restarting']}</p></html>",
                status_code=503,
            )
        return JSONResponse({"ok": False, "problem": str(exc)}, status_code=503)

    @app.get("/", response_class=HTMLResponse)
    async def index(request: Request) -> Response:
        screen = demo.screen(request.query_params.get("as"), request.query_params.get("c"))
        if screen.where == page.HOME:
            await screen.client.open_home(screen.user_id)
            screen = demo.screen(screen.user_id, page.HOME)
        return HTMLResponse(page.document(screen))

    @app.get("/parts")
    async def parts(request: Request) -> Response:
        screen = demo.screen(request.query_params.get("as"), request.query_params.get("c"))
        return JSONResponse(page.parts(screen))

    @app.get("/stream")
    async def stream(request: Request) -> Response:
        async def changes() -> AsyncIterator[str]:
            last: object = None
            quiet = 0.0
            while not demo.closing and not await request.is_disconnected():
                now = demo.changes()
                if now != last:
                    last, quiet = now, 0.0
                    yield f"data: {json.dumps(now)}\n\n"
                elif quiet >= HEARTBEAT_SECONDS:
                    quiet = 0.0
                    yield ": still here\n\n"
                await asyncio.sleep(POLL_SECONDS)
                quiet += POLL_SECONDS

        return StreamingResponse(
            changes(), media_type="text/event-stream", headers={"Cache-Control": "no-store"}
        )

    @app.post("/act")
    async def act(request: Request) -> Response:
        body = await _body(request)
        value = body.get("value")
        outcome = await demo.client.act(
            _text(body, "as"),
            block_id=_text(body, "block"),
            action_id=str(body.get("action", "")),
            kind=_text(body, "kind"),
            value=None if value is None else str(value),
            label=str(body.get("label", "")),
            channel=body.get("channel") or None,
            message_ts=body.get("ts") or None,
            view_id=body.get("view") or None,
        )
        return _answer(outcome)

    @app.post("/submit")
    async def submit(request: Request) -> Response:
        body = await _body(request)
        values = body.get("values")
        if not isinstance(values, dict):
            raise ControlError("values must be an object of block_id → value")
        return _answer(await demo.client.submit(_text(body, "as"), _text(body, "view"), values))

    @app.post("/cancel")
    async def cancel(request: Request) -> Response:
        body = await _body(request)
        return _answer(await demo.client.cancel(_text(body, "as"), _text(body, "view")))

    @app.post("/command")
    async def command(request: Request) -> Response:
        body = await _body(request)
        line = _text(body, "command").strip()
        if not line.startswith("/"):
            raise ControlError(demo.screen(None, None).words["only_commands"])
        user = _text(body, "as")
        where = _text(body, "channel")
        if where in (page.HOME, page.DM):
            channel, _ = demo.state.open_conversation([user])
            where = channel.id
        return _answer(await demo.client.command(user, where, line))

    @app.post("/control/event")
    async def control_event(request: Request) -> Response:
        body = await _body(request)
        return JSONResponse(
            {"ok": True, "result": await demo.send_event(_text(body, "lead"), _text(body, "type"))}
        )

    @app.post("/control/burst")
    async def control_burst(request: Request) -> Response:
        body = await _body(request)
        try:
            count = int(body.get("count", 0))
        except (TypeError, ValueError) as exc:
            raise ControlError(f"count must be a whole number, got {body.get('count')!r}") from exc
        return JSONResponse({"ok": True, "result": await demo.burst(count)})

    @app.post("/control/advance")
    async def control_advance(request: Request) -> Response:
        body = await _body(request)
        return JSONResponse({"ok": True, "result": await demo.advance(_text(body, "step"))})

    @app.post("/control/language")
    async def control_language(request: Request) -> Response:
        body = await _body(request)
        await demo.restart(_text(body, "language"))
        return JSONResponse({"ok": True, "generation": demo.generation})

    @app.get("/files/{file_id}")
    async def file(file_id: str) -> Response:
        upload = demo.state.files.get(file_id)
        if upload is None or upload.content is None:
            return Response(f"no file {file_id}", status_code=404, media_type="text/plain")
        kind = (
            "image/png" if upload.filename.lower().endswith(".png") else "application/octet-stream"
        )
        return Response(upload.content, media_type=kind)

    @app.get("/static/{name}")
    async def static(name: str) -> Response:
        if name not in STATIC:
            return Response(f"no file {name}", status_code=404, media_type="text/plain")
        content = resources.files("bot.standin").joinpath("static", name).read_bytes()
        return Response(content, media_type=STATIC[name], headers={"Cache-Control": "no-cache"})

    return app


async def serve_page(
    *,
    language: str,
    config: Path | None = None,
    host: str,
    port: int,
    say: Callable[[str], None],
    stop: asyncio.Event,
    opened: Callable[[DemoPage], None] = lambda _demo: None,
) -> None:
    """Serve the page until `stop` is set; say its URL once it is usable (`opened` sees it first)."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((host, port))
    except OSError as exc:
        listener.close()
        raise ControlError(f"cannot listen on {host}:{port}: {exc.strerror}; pass --port") from exc
    with listener:
        async with demo_page(language, config=config) as demo:
            server = quiet_server(create_page_app(demo), port, host)
            serving = asyncio.create_task(server.serve(sockets=[listener]))
            try:
                while not server.started:
                    if serving.done():
                        await serving
                        raise RuntimeError("the demo page did not start")
                    await asyncio.sleep(0.02)
                opened(demo)
                say(
                    f"mqlbot demo: open http://{host}:{listener.getsockname()[1]}/ (Ctrl-C to stop)"
                )
                await stop.wait()
            finally:
                demo.closing = True  # open streams end, so the server can stop at once
                await asyncio.sleep(2 * POLL_SECONDS)
                server.should_exit = True
                await serving


def run_page(
    *,
    language: str,
    host: str,
    port: int,
    config: Path | None = None,
    say: Callable[[str], None] = print,
) -> int:
    """`mqlbot demo`: serve the page until Ctrl-C (or SIGTERM); return the exit status."""

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await serve_page(language=language, config=config, host=host, port=port, say=say, stop=stop)

    asyncio.run(main())
    return 0
