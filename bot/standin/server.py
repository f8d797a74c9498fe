"""FastAPI app imitating the Slack Web API methods mqlbot uses, plus a control API for tests."""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from bot.standin.faults import Fault, RateLimitPolicy
from bot.standin.limits import message_errors, text_error, view_errors
from bot.standin.render import render_channel
from bot.standin.state import JsonDict, StandinError, Workspace

DEFAULT_TOKEN = "xoxb-standin"  # noqa: S105 (the stand-in's fake token)
# What auth.test reports; Bolt copies it into the authorize result.
BOT_SCOPES = "chat:write,chat:write.public,commands,im:write,users:read,usergroups:read,files:write"
MAX_MEMBERS_PAGE = 1000

Handler = Callable[[JsonDict, Request], Awaitable[JsonDict]]


def _json_field(args: JsonDict, key: str) -> Any:
    """Block Kit fields arrive as JSON text in form bodies and as objects in JSON bodies."""
    value = args.get(key)
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError as exc:
            code = "invalid_blocks_format" if key == "blocks" else "invalid_arguments"
            raise StandinError(code, detail=f"{key} is not valid JSON: {exc.msg}") from exc
    return value


def _flag(args: JsonDict, key: str) -> bool | None:
    value = args.get(key)
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    return str(value).lower() in ("1", "true", "yes")


def _str(args: JsonDict, key: str) -> str | None:
    value = args.get(key)
    return None if value is None or value == "" else str(value)


def _id_list(value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(v) for v in value]
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    return []


def _invalid_arguments(messages: list[str]) -> StandinError:
    return StandinError(
        "invalid_arguments", response_metadata={"messages": [f"[ERROR] {m}" for m in messages]}
    )


def _encode_cursor(offset: int) -> str:
    return base64.b64encode(f"offset:{offset}".encode()).decode()


def _decode_cursor(cursor: str) -> int:
    try:
        kind, _, number = base64.b64decode(cursor, validate=True).decode().partition(":")
        offset = int(number)
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise StandinError("invalid_cursor") from exc
    if kind != "offset" or offset < 0:
        raise StandinError("invalid_cursor")
    return offset


class _SlackApi:
    """The Web API methods; each takes parsed arguments and returns the `ok` answer."""

    def __init__(self, state: Workspace) -> None:
        self.state = state
        self.methods: dict[str, Handler] = {
            "auth.test": self.auth_test,
            "chat.postMessage": self.chat_post_message,
            "chat.update": self.chat_update,
            "chat.delete": self.chat_delete,
            "chat.postEphemeral": self.chat_post_ephemeral,
            "chat.getPermalink": self.chat_get_permalink,
            "views.open": self.views_open,
            "views.push": self.views_push,
            "views.update": self.views_update,
            "views.publish": self.views_publish,
            "conversations.open": self.conversations_open,
            "conversations.info": self.conversations_info,
            "conversations.members": self.conversations_members,
            "conversations.history": self.conversations_history,
            "conversations.replies": self.conversations_replies,
            "users.info": self.users_info,
            "usergroups.users.list": self.usergroups_users_list,
            "files.getUploadURLExternal": self.files_get_upload_url,
            "files.completeUploadExternal": self.files_complete_upload,
        }

    async def auth_test(self, args: JsonDict, request: Request) -> JsonDict:
        s = self.state
        return {
            "url": f"https://{s.team_domain}.slack.com/",
            "team": s.team_name,
            "user": s.users[s.bot_user_id].name,
            "team_id": s.team_id,
            "user_id": s.bot_user_id,
            "bot_id": s.bot_id,
            "is_enterprise_install": False,
        }

    def _checked_message(self, args: JsonDict, *, update: bool) -> tuple[str | None, Any, Any]:
        text = args.get("text")
        blocks = _json_field(args, "blocks")
        attachments = _json_field(args, "attachments")
        if text is not None and not isinstance(text, str):
            text = str(text)
        code = text_error(text, blocks if blocks is not None else attachments)
        # chat.update may change only the blocks or only the text; the rest is kept.
        if code == "no_text" and update and (blocks is not None or attachments is not None):
            code = None
        if code:
            raise StandinError(code)
        errors = message_errors(blocks)
        if errors:
            raise StandinError("invalid_blocks", errors=errors)
        return text, blocks, attachments

    async def chat_post_message(self, args: JsonDict, request: Request) -> JsonDict:
        s = self.state
        channel = s.channel_for_post(_str(args, "channel") or "")
        if not (channel.is_im or channel.is_mpim) and s.bot_user_id not in channel.members:
            raise StandinError("not_in_channel")
        text, blocks, attachments = self._checked_message(args, update=False)
        message = s.post_message(
            channel.id,
            text=text or "",
            blocks=blocks,
            attachments=attachments,
            thread_ts=_str(args, "thread_ts"),
            reply_broadcast=bool(_flag(args, "reply_broadcast")),
            metadata=_json_field(args, "metadata"),
            unfurl_links=_flag(args, "unfurl_links"),
            unfurl_media=_flag(args, "unfurl_media"),
        )
        return {
            "channel": channel.id,
            "ts": message.ts,
            "message": message.to_api(s.team_id, s.app_id),
        }

    async def chat_update(self, args: JsonDict, request: Request) -> JsonDict:
        s = self.state
        channel = s.channel(_str(args, "channel") or "")
        ts = _str(args, "ts")
        if ts is None:
            raise StandinError("message_not_found")
        text, blocks, attachments = self._checked_message(args, update=True)
        message = s.update_message(
            channel.id, ts, text=text, blocks=blocks, attachments=attachments
        )
        metadata = _json_field(args, "metadata")
        if metadata is not None:  # chat.update replaces the metadata when it is given
            message.metadata = metadata
        return {
            "channel": channel.id,
            "ts": message.ts,
            "text": message.text,
            "message": message.to_api(s.team_id, s.app_id),
        }

    async def chat_delete(self, args: JsonDict, request: Request) -> JsonDict:
        channel = self.state.channel(_str(args, "channel") or "")
        ts = _str(args, "ts") or ""
        if self.state.message(channel.id, ts).user != self.state.bot_user_id:
            raise StandinError("cant_delete_message")
        self.state.delete_message(channel.id, ts)
        return {"channel": channel.id, "ts": ts}

    async def chat_post_ephemeral(self, args: JsonDict, request: Request) -> JsonDict:
        s = self.state
        channel = s.channel(_str(args, "channel") or "")
        user = _str(args, "user")
        if user is None:
            raise StandinError("user_not_found")
        text, blocks, _ = self._checked_message(args, update=False)
        ephemeral = s.post_ephemeral(
            channel.id, user, text=text or "", blocks=blocks, thread_ts=_str(args, "thread_ts")
        )
        return {"message_ts": ephemeral.ts}

    async def chat_get_permalink(self, args: JsonDict, request: Request) -> JsonDict:
        channel = self.state.channel(_str(args, "channel") or "")
        ts = _str(args, "message_ts")
        if ts is None:
            raise StandinError("message_not_found")
        return {"channel": channel.id, "permalink": self.state.permalink(channel.id, ts)}

    def _checked_view(self, args: JsonDict) -> JsonDict:
        view = _json_field(args, "view")
        if view is None:
            raise _invalid_arguments(["missing required field: view"])
        errors = view_errors(view)
        if errors:
            raise _invalid_arguments(errors)
        assert isinstance(view, dict)  # view_errors reports anything else
        return view

    def _view_answer(self, view_id: str) -> JsonDict:
        s = self.state
        return {"view": s.views[view_id].to_api(s.team_id, s.app_id, s.bot_id)}

    async def views_open(self, args: JsonDict, request: Request) -> JsonDict:
        trigger = _str(args, "trigger_id")
        if trigger is None:
            raise _invalid_arguments(["missing required field: trigger_id"])
        payload = self._checked_view(args)
        if payload.get("type") != "modal":
            raise _invalid_arguments(["views.open only opens modals [json-pointer:/view/type]"])
        user_id = self.state.consume_trigger(trigger)
        return self._view_answer(self.state.open_view(user_id, payload).id)

    async def views_push(self, args: JsonDict, request: Request) -> JsonDict:
        trigger = _str(args, "trigger_id")
        if trigger is None:
            raise _invalid_arguments(["missing required field: trigger_id"])
        payload = self._checked_view(args)
        user_id = self.state.consume_trigger(trigger)
        open_modals = [
            v for v in self.state.views.values() if v.user_id == user_id and v.type == "modal"
        ]
        if not open_modals:
            raise StandinError("not_found", detail="no modal is open for this user")
        view = self.state.push_view(user_id, payload, open_modals[-1])
        return self._view_answer(view.id)

    async def views_update(self, args: JsonDict, request: Request) -> JsonDict:
        view_id = _str(args, "view_id")
        external_id = _str(args, "external_id")
        if view_id is None and external_id is None:
            raise _invalid_arguments(["either view_id or external_id is required"])
        payload = self._checked_view(args)
        view = self.state.find_view(view_id=view_id, external_id=external_id)
        self.state.update_view(view, payload, hash=_str(args, "hash"))
        return self._view_answer(view.id)

    async def views_publish(self, args: JsonDict, request: Request) -> JsonDict:
        user_id = _str(args, "user_id")
        if user_id is None:
            raise _invalid_arguments(["missing required field: user_id"])
        payload = self._checked_view(args)
        if payload.get("type") != "home":
            raise _invalid_arguments(
                ["views.publish only publishes home tabs [json-pointer:/view/type]"]
            )
        view = self.state.publish_home(user_id, payload, hash=_str(args, "hash"))
        return self._view_answer(view.id)

    async def conversations_open(self, args: JsonDict, request: Request) -> JsonDict:
        s = self.state
        existing = _str(args, "channel")
        if existing is not None:
            channel, already = s.channel(existing), True
        else:
            channel, already = s.open_conversation(_id_list(args.get("users")))
        if _flag(args, "return_im"):
            body: JsonDict = {"channel": channel.to_api(s.bot_user_id)}
        else:
            body = {"channel": {"id": channel.id}}
        if already:
            body.update(no_op=True, already_open=True)
        return body

    async def conversations_info(self, args: JsonDict, request: Request) -> JsonDict:
        channel = self.state.channel(_str(args, "channel") or "")
        include = bool(_flag(args, "include_num_members"))
        return {"channel": channel.to_api(self.state.bot_user_id, include_num_members=include)}

    async def conversations_members(self, args: JsonDict, request: Request) -> JsonDict:
        channel = self.state.channel(_str(args, "channel") or "")
        try:
            limit = int(args.get("limit") or 100)
        except ValueError as exc:
            raise StandinError("invalid_limit") from exc
        if limit < 1:
            raise StandinError("invalid_limit")
        limit = min(limit, MAX_MEMBERS_PAGE)
        cursor = _str(args, "cursor")
        offset = _decode_cursor(cursor) if cursor else 0
        page = channel.members[offset : offset + limit]
        more = offset + limit < len(channel.members)
        return {
            "members": page,
            "response_metadata": {"next_cursor": _encode_cursor(offset + limit) if more else ""},
        }

    def _history_page(self, messages: list[Any], args: JsonDict) -> JsonDict:
        # The sender reads history to find a post whose answer it lost (its metadata marker).
        try:
            oldest = float(args.get("oldest") or 0)
            latest = float(args.get("latest") or "inf")
            limit = max(1, min(int(args.get("limit") or 100), MAX_MEMBERS_PAGE))
        except ValueError as exc:
            raise StandinError("invalid_arguments", detail=str(exc)) from exc
        inclusive = bool(_flag(args, "inclusive"))
        kept = [
            m
            for m in messages
            if (oldest <= float(m.ts) <= latest)
            if inclusive or float(m.ts) not in (oldest, latest)
        ]
        cursor = _str(args, "cursor")
        offset = _decode_cursor(cursor) if cursor else 0
        page = kept[offset : offset + limit]
        more = offset + limit < len(kept)
        s = self.state
        return {
            "messages": [m.to_api(s.team_id, s.app_id) for m in page],
            "has_more": more,
            "response_metadata": {"next_cursor": _encode_cursor(offset + limit) if more else ""},
        }

    async def conversations_history(self, args: JsonDict, request: Request) -> JsonDict:
        s = self.state
        channel = s.channel(_str(args, "channel") or "")
        if not (channel.is_im or channel.is_mpim) and s.bot_user_id not in channel.members:
            raise StandinError("not_in_channel")
        return self._history_page(list(reversed(s.top_level(channel.id))), args)

    async def conversations_replies(self, args: JsonDict, request: Request) -> JsonDict:
        s = self.state
        channel = s.channel(_str(args, "channel") or "")
        parent = s.message(channel.id, _str(args, "ts") or "")
        root = parent.thread_ts or parent.ts
        thread = [s.message(channel.id, root), *s.replies(channel.id, root)]
        return self._history_page(thread, args)

    async def users_info(self, args: JsonDict, request: Request) -> JsonDict:
        user = self.state.user(_str(args, "user") or "")
        return {"user": user.to_api(self.state.team_id)}

    async def usergroups_users_list(self, args: JsonDict, request: Request) -> JsonDict:
        return {"users": self.state.usergroup_members(_str(args, "usergroup") or "")}

    async def files_get_upload_url(self, args: JsonDict, request: Request) -> JsonDict:
        filename = _str(args, "filename")
        length = args.get("length")
        if filename is None or length is None:
            raise _invalid_arguments(["filename and length are required"])
        try:
            size = int(length)
        except ValueError as exc:
            raise _invalid_arguments([f"length must be an integer, got {length!r}"]) from exc
        upload = self.state.start_upload(filename, size, _str(args, "alt_txt"))
        base = str(request.base_url).rstrip("/")
        return {"upload_url": f"{base}/_standin/upload/{upload.id}", "file_id": upload.id}

    async def files_complete_upload(self, args: JsonDict, request: Request) -> JsonDict:
        items = _json_field(args, "files")
        if not isinstance(items, list) or not items:
            raise _invalid_arguments(["files must be a non-empty JSON array of {id, title}"])
        channels = _id_list(args.get("channels"))
        channel_id = _str(args, "channel_id")
        if channel_id:
            channels.insert(0, channel_id)
        done = self.state.complete_upload(
            [i for i in items if isinstance(i, dict)],
            channels=channels,
            initial_comment=_str(args, "initial_comment"),
            thread_ts=_str(args, "thread_ts"),
        )
        return {"files": [f.to_api() for f in done]}


async def _read_args(request: Request) -> JsonDict:
    """Merge query string and body (form-encoded or JSON), as Slack accepts either."""
    args: JsonDict = dict(request.query_params)
    body = await request.body()
    if not body:
        return args
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "application/json":
        try:
            parsed = json.loads(body)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise StandinError("invalid_json") from exc
        if not isinstance(parsed, dict):
            raise StandinError("invalid_json")
        args.update(parsed)
    elif content_type in ("application/x-www-form-urlencoded", ""):
        args.update(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
    else:
        raise StandinError("invalid_form_data", detail=f"unsupported content type {content_type}")
    return args


def _slack_json(
    body: JsonDict, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    return JSONResponse(
        body, status_code=status, headers={"x-oauth-scopes": BOT_SCOPES, **(headers or {})}
    )


def _control_error(detail: str) -> Response:
    return JSONResponse(
        {"ok": False, "error": "invalid_arguments", "detail": detail}, status_code=400
    )


def create_standin_app(state: Workspace, *, token: str = DEFAULT_TOKEN) -> FastAPI:
    """The stand-in: Web API under `/api/<method>` and `/<method>`, control API under `/_standin/`."""
    app = FastAPI(title="Slack stand-in", docs_url=None, redoc_url=None, openapi_url=None)
    api = _SlackApi(state)

    async def call(method: str, request: Request) -> Response:
        try:
            args = await _read_args(request)
        except StandinError as exc:
            state.record_call(method, {}, error=exc.error)
            return _slack_json({"ok": False, "error": exc.error, **exc.extra})
        supplied = args.pop("token", None)
        header = request.headers.get("authorization", "")
        if header.lower().startswith("bearer "):
            supplied = header[7:].strip()
        handler = api.methods.get(method)
        if handler is None:
            state.record_call(method, args, error="unknown_method")
            return _slack_json({"ok": False, "error": "unknown_method", "req_method": method})
        if state.faults.is_down():
            state.record_call(method, args, status=503, error="service_unavailable")
            return _slack_json({"ok": False, "error": "service_unavailable"}, 503)
        fault = state.faults.take(method)
        if fault is not None and not fault.after_effect:
            if fault.delay:
                await asyncio.sleep(fault.delay)
            if fault.status is not None:
                return _fault_answer(state, method, args, fault)
        if not supplied:
            state.record_call(method, args, error="not_authed")
            return _slack_json({"ok": False, "error": "not_authed"})
        if supplied != token:
            state.record_call(method, args, error="invalid_auth")
            return _slack_json({"ok": False, "error": "invalid_auth"})
        wait = state.rate_limiter.check(method, _channel_key(state, args.get("channel")))
        if wait is not None:
            state.record_call(method, args, status=429, error="ratelimited")
            return _slack_json(
                {"ok": False, "error": "ratelimited"}, 429, {"Retry-After": str(wait)}
            )
        try:
            answer = await handler(args, request)
        except StandinError as exc:
            state.record_call(method, args, error=exc.error, detail=exc.extra)
            return _slack_json({"ok": False, "error": exc.error, **exc.extra})
        state.record_call(method, args)
        if fault is not None and fault.after_effect:
            await asyncio.sleep(fault.delay)  # done, but the caller gives up before it hears
        return _slack_json({"ok": True, **answer})

    _add_control_routes(app, state)

    @app.api_route("/api/{method}", methods=["GET", "POST"])
    async def api_method(method: str, request: Request) -> Response:
        return await call(method, request)

    @app.api_route("/{method}", methods=["GET", "POST"])
    async def bare_method(method: str, request: Request) -> Response:
        return await call(method, request)

    return app


def _channel_key(state: Workspace, ref: Any) -> str:
    """One bucket per channel however it is named (`#marketing` and `C_MKT` share one)."""
    try:
        return state.channel(str(ref or "")).id
    except StandinError:
        return str(ref or "")


def _fault_answer(state: Workspace, method: str, args: JsonDict, fault: Fault) -> Response:
    status = fault.status or 500
    if status == 429:
        state.record_call(method, args, status=429, error="ratelimited")
        retry = str(fault.retry_after if fault.retry_after is not None else 1)
        return _slack_json({"ok": False, "error": "ratelimited"}, 429, {"Retry-After": retry})
    error = "internal_error" if status == 500 else "service_unavailable"
    state.record_call(method, args, status=status, error=error)
    headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else None
    return _slack_json({"ok": False, "error": error}, status, headers)


async def _json_body(request: Request) -> JsonDict:
    body = await request.body()
    if not body:
        return {}
    parsed = json.loads(body)
    if not isinstance(parsed, dict):
        raise ValueError("the body must be a JSON object")
    return parsed


def _add_control_routes(app: FastAPI, state: Workspace) -> None:
    """Routes a separate process (benchmark, demo page) uses to drive the stand-in."""
    _add_side_channel_routes(app, state)
    _add_inspection_routes(app, state)
    _add_fault_routes(app, state)

    @app.post("/_standin/triggers")
    async def trigger(request: Request) -> Response:
        try:
            user_id = str((await _json_body(request))["user_id"])
            state.user(user_id)
        except (ValueError, KeyError, StandinError) as exc:
            return _control_error(f"trigger needs a known user_id: {exc}")
        return JSONResponse({"ok": True, "trigger_id": state.issue_trigger(user_id)})


def _add_side_channel_routes(app: FastAPI, state: Workspace) -> None:
    """What Slack serves beside the Web API: the file upload URL and interactions' response_url."""

    @app.post("/_standin/upload/{file_id}")
    async def upload(file_id: str, request: Request) -> Response:
        content = await request.body()
        try:
            state.receive_upload(file_id, content)
        except StandinError:
            return PlainTextResponse(f"no upload started for file {file_id}", status_code=404)
        state.record_call("upload", {"file_id": file_id, "bytes": len(content)})
        # slack_sdk reads this answer as text/plain, as from files.slack.com.
        return PlainTextResponse(f"OK - {len(content)}")

    @app.post("/_standin/respond/{token}")
    async def respond(token: str, request: Request) -> Response:
        try:
            body = await _json_body(request)
            answer = _apply_response_url(state, token, body)
        except (ValueError, UnicodeDecodeError) as exc:
            return _control_error(f"response_url body: {exc}")
        except StandinError as exc:
            state.record_call(
                "response_url", {"token": token}, status=404, error=exc.error, detail=exc.extra
            )
            return JSONResponse({"ok": False, "error": exc.error, **exc.extra}, status_code=404)
        state.record_call("response_url", {"token": token, **body})
        return JSONResponse(answer)


def _add_inspection_routes(app: FastAPI, state: Workspace) -> None:
    """Reset the workspace, dump it as JSON, render a channel as text."""

    @app.post("/_standin/reset")
    async def reset() -> Response:
        state.reset()
        return JSONResponse({"ok": True})

    @app.get("/_standin/state")
    async def dump() -> Response:
        return JSONResponse(state.to_json())

    @app.get("/_standin/render/{channel}")
    async def render(channel: str) -> Response:
        try:
            return PlainTextResponse(render_channel(state, channel))
        except StandinError as exc:
            return JSONResponse({"ok": False, "error": exc.error}, status_code=404)


def _add_fault_routes(app: FastAPI, state: Workspace) -> None:
    """Make the stand-in misbehave as Slack can: errors, delays, an outage, rate limits."""

    @app.post("/_standin/faults")
    async def inject(request: Request) -> Response:
        try:
            body = await _json_body(request)
            method = str(body.get("method", "*"))
            fault = Fault(
                status=body.get("status", 500),
                retry_after=body.get("retry_after"),
                delay=float(body.get("delay", 0.0)),
            )
            state.faults.inject(method, fault, count=int(body.get("count", 1)))
        except (ValueError, TypeError) as exc:
            return _control_error(f"fault: {exc}")
        return JSONResponse({"ok": True, "pending": state.faults.pending()})

    @app.delete("/_standin/faults")
    async def clear_faults() -> Response:
        state.faults.clear()
        return JSONResponse({"ok": True})

    @app.post("/_standin/down")
    async def down(request: Request) -> Response:
        try:
            state.faults.down_for(float((await _json_body(request)).get("seconds", 0)))
        except (ValueError, TypeError) as exc:
            return _control_error(f"down: {exc}")
        return JSONResponse({"ok": True})

    @app.post("/_standin/rate_limit")
    async def rate_limit(request: Request) -> Response:
        try:
            body = await _json_body(request)
            policy = RateLimitPolicy(
                enabled=bool(body.get("enabled", True)),
                per_second=float(body.get("per_second", 1.0)),
                burst=int(body.get("burst", 3)),
            )
        except (ValueError, TypeError) as exc:
            return _control_error(f"rate_limit: {exc}")
        state.rate_limiter.configure(policy)
        return JSONResponse({"ok": True})


def _apply_response_url(state: Workspace, token: str, body: JsonDict) -> JsonDict:
    """What Slack does with a POST to an interaction's response_url."""
    channel_id, user_id, message_ts = state.response_url_target(token)
    blocks = body.get("blocks")
    text = body.get("text")
    errors = message_errors(blocks)
    if errors:
        raise StandinError("invalid_blocks", errors=errors)
    if _flag(body, "delete_original"):
        if message_ts is None:
            raise StandinError("message_not_found")
        state.delete_message(channel_id, message_ts)
    elif _flag(body, "replace_original"):
        if message_ts is None:
            raise StandinError("message_not_found")
        author = state.message(channel_id, message_ts).user
        state.update_message(channel_id, message_ts, text=text, blocks=blocks, by=author)
    elif body.get("response_type") == "in_channel":
        if text_error(text, blocks):
            raise StandinError("no_text")
        message = state.post_message(
            channel_id, text=text or "", blocks=blocks, thread_ts=_str(body, "thread_ts")
        )
        message.via_response_url = True
    else:
        if text_error(text, blocks):
            raise StandinError("no_text")
        state.post_ephemeral(channel_id, user_id, text=text or "", blocks=blocks)
    return {"ok": True}
