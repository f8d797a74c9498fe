"""The FastAPI app: Slack endpoint (Bolt), webhooks, health and metrics."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from slack_bolt.adapter.fastapi.async_handler import AsyncSlackRequestHandler
from sqlalchemy import text

from bot.runtime import Runtime
from bot.slack_app import build_bolt_app
from bot.webhooks import webhook_router

log = logging.getLogger(__name__)

# New container objects between two passes of the collector's young generation (see lifespan).
YOUNG_GC_THRESHOLD = 50_000

Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[None]]


def create_web_app(runtime: Runtime, *, background: Lifespan | None = None) -> FastAPI:
    """The HTTP app; `background` runs alongside it (the scheduler and the sender in `serve`)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await runtime.open_slack_session()
        # Everything built so far (modules, settings, the apps) lives as long as the process:
        # keep it out of the collector's full passes, which otherwise stall every request for
        # 70-100 ms now and then (bench_ingest: the p99 at a steady 500 req/s).
        gc.collect()
        gc.freeze()
        # A young-generation pass every 700 new containers (the default) ran several times per
        # webhook event: a batch of 500 events spent a quarter of its CPU in the collector.
        # Passes every 50,000 cost ~1 ms each and keep the young generation a few MB at most.
        thresholds = gc.get_threshold()
        gc.set_threshold(YOUNG_GC_THRESHOLD, *thresholds[1:])
        try:
            if background is None:
                yield
                return
            async with background(app):
                yield
        finally:
            gc.set_threshold(*thresholds)
            gc.unfreeze()  # several apps in one process (tests): collectable again when done
            await runtime.close_slack_session()

    app = FastAPI(title="mqlbot", version="0.1.0", lifespan=lifespan)
    app.state.runtime = runtime
    app.include_router(webhook_router(runtime))
    bolt = AsyncSlackRequestHandler(build_bolt_app(runtime))

    @app.post("/slack/events", include_in_schema=False)
    async def slack_events(request: Request) -> Response:
        return await bolt.handle(request)

    @app.get("/healthz")
    async def healthz() -> JSONResponse:
        try:
            async with runtime.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except Exception as exc:  # any database failure means "not healthy", reported as such
            log.warning("health check failed: %s", exc)
            return JSONResponse(
                {"status": "unhealthy", "database": str(exc)[:200]}, status_code=503
            )
        return JSONResponse({"status": "ok", "database": "ok"})

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        return Response(runtime.metrics.render(), media_type="text/plain; version=0.0.4")

    return app
