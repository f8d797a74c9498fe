"""The webhook routes: native events at /webhooks/events and each tool's format at /webhooks/{source}."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from bot.runtime import Runtime
from handlers.ingest.auth import AuthError, verify
from handlers.ingest.native import (
    MAX_BODY_BYTES,
    IngestError,
    NativeEvent,
    check_event_count,
    parse_native_body,
)
from handlers.ingest.sources.base import RawRequest, SignatureError, SourceAdapter, SourceConfig
from handlers.ingest.sources.registry import ADAPTERS
from handlers.ingest.sources.salesforce import ACK, soap_fault
from handlers.ingest.webhook import Ingester, IngestResult

log = logging.getLogger(__name__)


class _TooLarge(Exception):
    pass


@dataclass(frozen=True)
class _Source:
    adapter: SourceAdapter[Any]
    config: SourceConfig
    secret: str


def _sources(runtime: Runtime) -> dict[str, _Source]:
    """The enabled tools with their parsed `[sources.<tool>]` and the secret from the env var it names."""
    configured = runtime.settings.sources
    unknown = sorted(set(configured) - set(ADAPTERS))
    if unknown:
        raise ValueError(
            f"sources.{unknown[0]}: unknown source; known: {', '.join(sorted(ADAPTERS))}"
        )
    out: dict[str, _Source] = {}
    for name, adapter in ADAPTERS.items():
        config = adapter.parse_config(configured.get(name, {}))
        if config.enabled:
            out[name] = _Source(adapter, config, os.environ.get(config.secret_env, ""))
    return out


async def read_body(request: Request, limit: int = MAX_BODY_BYTES) -> bytes:
    """The raw body, refused as soon as it is known to exceed `limit` (declared or actual size)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.strip().isdigit() and int(declared) > limit:
        raise _TooLarge
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _TooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large() -> IngestError:
    return IngestError(413, "body too large", extra={"limit_bytes": MAX_BODY_BYTES})


class _Intake:
    """What both webhook routes share: the ingester, the metrics, the secrets, the answers."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.metrics = runtime.metrics
        secret = runtime.settings.webhook_secret
        self.native_secret = secret.get_secret_value() if secret is not None else None
        self.sources = _sources(runtime)
        self.known_types = runtime.config.known_types
        # One writer per process: concurrent requests share transactions (group commit).
        self.ingester = Ingester(runtime.deps, writer=runtime.writer)

    def answer(self, source: str, status: int, body: dict[str, Any]) -> JSONResponse:
        self.metrics.webhook_requests.labels(source=source, status=str(status)).inc()
        return JSONResponse(body, status_code=status)

    async def accept(
        self,
        source: str,
        events: list[NativeEvent],
        namespace: str,
        extra: dict[str, Any] | None = None,
        duplicates_in_request: int = 0,
    ) -> JSONResponse:
        """Hand the events to the ingester and answer 202 with what became of them."""
        result: IngestResult = await self.ingester.submit(events, namespace=namespace)
        metrics = self.metrics
        received = metrics.events_received
        received.labels(source=source, outcome="accepted").inc(result.accepted)
        duplicates = result.duplicates + duplicates_in_request
        received.labels(source=source, outcome="duplicate").inc(duplicates)
        for kind in result.mql_kinds:
            metrics.mqls_created.labels(kind=kind).inc()
        body: dict[str, Any] = {
            "accepted": result.accepted,
            "duplicates": duplicates,
            "mqls": result.mqls,
            **(extra or {}),
        }
        return self.answer(source, 202, body)

    async def guarded(
        self, source: str, request: Request, handle: Callable[[bytes], Awaitable[JSONResponse]]
    ) -> JSONResponse:
        """Read the body within its limit and run ``handle``; refusals become their answer."""
        try:
            raw = await read_body(request)
            return await handle(raw)
        except _TooLarge:
            return self.answer(source, 413, _too_large().body())
        except IngestError as exc:
            self.metrics.events_received.labels(source=source, outcome="rejected").inc()
            return self.answer(source, exc.status, exc.body())

    async def native(self, request: Request, raw: bytes) -> JSONResponse:
        """A native-format body: check its signature, parse it, ingest it."""
        try:
            verify(request.headers, raw, self.native_secret, now=self.runtime.clock())
        except AuthError as exc:
            return self.answer("native", 401, {"error": "unauthorized", "reason": exc.reason})
        return await self.accept("native", parse_native_body(raw, self.known_types), "native")

    async def from_tool(
        self, source: str, tool: _Source, request: Request, raw: bytes
    ) -> JSONResponse:
        """A tool's own format: check it the tool's way, translate it, ingest what maps."""
        raw_request = RawRequest(
            method=request.method,
            public_url=str(request.url),
            headers=dict(request.headers),
            body=raw,
            content_type=request.headers.get("content-type", ""),
        )
        try:
            tool.adapter.verify(raw_request, tool.secret, tool.config, self.runtime.clock())
        except SignatureError as exc:
            return self.answer(source, 401, {"error": "unauthorized", "reason": exc.reason})
        translation = tool.adapter.translate(raw_request, tool.config, self.known_types)
        # Counted as the tool sent them: mapped, ignored and repeated items alike.
        check_event_count(len(translation.events) + translation.ignored + translation.duplicates)
        self.metrics.events_received.labels(source=source, outcome="ignored").inc(
            translation.ignored
        )
        return await self.accept(
            source,
            translation.events,
            source,
            {"ignored": translation.ignored},
            translation.duplicates,
        )


def webhook_router(runtime: Runtime) -> APIRouter:
    """POST /webhooks/events (native format) and POST /webhooks/{source} (a tool's own format)."""
    router = APIRouter()
    intake = _Intake(runtime)

    @router.post("/webhooks/events")
    async def native_events(request: Request) -> JSONResponse:
        return await intake.guarded("native", request, lambda raw: intake.native(request, raw))

    async def salesforce(request: Request) -> Response:
        """An Outbound Message: the same path as every tool, answered in SOAP (Ack or Fault)."""
        answered = await source_events("salesforce", request)
        if answered.status_code == 202:
            return Response(ACK, media_type="text/xml")
        body = json.loads(bytes(answered.body))
        reason = body.get("reason") or body.get("error", "refused")
        if body.get("details"):
            reason += ": " + "; ".join(f"{d['field']}: {d['error']}" for d in body["details"])
        return Response(soap_fault(reason), status_code=answered.status_code, media_type="text/xml")

    # Outbound messages cannot send a header: the token may be the last path segment.
    router.post("/webhooks/salesforce")(salesforce)
    router.post("/webhooks/salesforce/{token}")(salesforce)

    @router.post("/webhooks/{source}")
    async def source_events(source: str, request: Request) -> JSONResponse:
        tool = intake.sources.get(source)
        if tool is None:
            body = {"error": f"unknown or disabled source {source[:50]!r}"}
            return intake.answer("unknown", 404, body)
        return await intake.guarded(
            source, request, lambda raw: intake.from_tool(source, tool, request, raw)
        )

    return router
