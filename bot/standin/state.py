"""In-memory Slack workspace the stand-in serves: directory, messages, views, files and calls."""

from __future__ import annotations

import copy
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from bot.standin.faults import FaultPlan, RateLimiter, RateLimitPolicy

JsonDict = dict[str, Any]
Clock = Callable[[], float]

# Slack lets a trigger id open a view for about three seconds after the click.
TRIGGER_TTL_SECONDS = 3.0


class StandinError(Exception):
    """A Slack API error answer: `{"ok": false, "error": code, **extra}`."""

    def __init__(self, error: str, **extra: Any) -> None:
        super().__init__(error)
        self.error = error
        self.extra = extra


@dataclass
class User:
    id: str
    name: str
    real_name: str
    tz: str = "UTC"
    locale: str = "en-US"
    is_bot: bool = False
    email: str | None = None

    def to_api(self, team_id: str) -> JsonDict:
        profile: JsonDict = {
            "real_name": self.real_name,
            "display_name": self.name,
            "real_name_normalized": self.real_name,
            "display_name_normalized": self.name,
        }
        if self.email:
            profile["email"] = self.email
        return {
            "id": self.id,
            "team_id": team_id,
            "name": self.name,
            "real_name": self.real_name,
            "deleted": False,
            "tz": self.tz,
            "locale": self.locale,
            "is_bot": self.is_bot,
            "is_app_user": False,
            "profile": profile,
        }


@dataclass
class Channel:
    id: str
    name: str
    members: list[str] = field(default_factory=list)
    is_private: bool = False
    is_im: bool = False
    is_mpim: bool = False
    im_user: str | None = None
    created: int = 0

    def to_api(self, bot_user_id: str, *, include_num_members: bool = False) -> JsonDict:
        data: JsonDict = {
            "id": self.id,
            "created": self.created,
            "is_im": self.is_im,
            "is_mpim": self.is_mpim,
            "is_channel": not (self.is_im or self.is_mpim or self.is_private),
            "is_group": self.is_private and not self.is_mpim,
            "is_private": self.is_private or self.is_im or self.is_mpim,
            "is_archived": False,
            "is_member": bot_user_id in self.members,
        }
        if self.is_im:
            data["user"] = self.im_user
        else:
            data["name"] = self.name
            data["name_normalized"] = self.name
        if include_num_members:
            data["num_members"] = len(self.members)
        return data


@dataclass
class MessageVersion:
    """One state of a message: the original post or the result of one chat.update."""

    text: str
    blocks: list[JsonDict]
    at: float


@dataclass
class Message:
    channel: str
    ts: str
    user: str
    text: str
    blocks: list[JsonDict]
    thread_ts: str | None = None
    reply_broadcast: bool = False
    bot_id: str | None = None
    metadata: JsonDict | None = None
    unfurl_links: bool | None = None
    unfurl_media: bool | None = None
    attachments: list[JsonDict] | None = None
    files: list[str] = field(default_factory=list)
    history: list[MessageVersion] = field(default_factory=list)
    via_response_url: bool = False

    @property
    def edited(self) -> bool:
        return len(self.history) > 1

    @property
    def is_reply(self) -> bool:
        return self.thread_ts is not None and self.thread_ts != self.ts

    def to_api(self, team_id: str, app_id: str) -> JsonDict:
        data: JsonDict = {
            "type": "message",
            "text": self.text,
            "user": self.user,
            "ts": self.ts,
            "team": team_id,
            "blocks": copy.deepcopy(self.blocks),
        }
        if self.bot_id:
            data["bot_id"] = self.bot_id
            data["app_id"] = app_id
        if self.thread_ts:
            data["thread_ts"] = self.thread_ts
        if self.attachments:
            data["attachments"] = copy.deepcopy(self.attachments)
        if self.metadata:
            data["metadata"] = copy.deepcopy(self.metadata)
        if self.files:
            data["files"] = [{"id": f} for f in self.files]
        if self.edited:
            data["edited"] = {"user": self.user, "ts": _format_ts(self.history[-1].at)}
        return data


@dataclass
class Ephemeral:
    channel: str
    user: str
    ts: str
    text: str
    blocks: list[JsonDict]
    thread_ts: str | None = None


@dataclass
class View:
    id: str
    type: str
    payload: JsonDict
    hash: str
    user_id: str | None
    external_id: str | None = None
    root_view_id: str | None = None
    previous_view_id: str | None = None
    history: list[JsonDict] = field(default_factory=list)

    def to_api(self, team_id: str, app_id: str, bot_id: str) -> JsonDict:
        p = self.payload
        return {
            "id": self.id,
            "team_id": team_id,
            "type": self.type,
            "blocks": copy.deepcopy(p.get("blocks", [])),
            "private_metadata": p.get("private_metadata", ""),
            "callback_id": p.get("callback_id", ""),
            "state": {"values": {}},
            "hash": self.hash,
            "title": copy.deepcopy(p.get("title")),
            "clear_on_close": bool(p.get("clear_on_close", False)),
            "notify_on_close": bool(p.get("notify_on_close", False)),
            "close": copy.deepcopy(p.get("close")),
            "submit": copy.deepcopy(p.get("submit")),
            "previous_view_id": self.previous_view_id,
            "root_view_id": self.root_view_id or self.id,
            "app_id": app_id,
            "external_id": self.external_id or "",
            "app_installed_team_id": team_id,
            "bot_id": bot_id,
        }


@dataclass
class UploadedFile:
    id: str
    filename: str
    length: int
    title: str | None = None
    alt_txt: str | None = None
    content: bytes | None = None
    channels: list[str] = field(default_factory=list)
    initial_comment: str | None = None
    thread_ts: str | None = None
    completed: bool = False

    def to_api(self) -> JsonDict:
        return {
            "id": self.id,
            "name": self.filename,
            "title": self.title or self.filename,
            "size": len(self.content or b""),
            "channels": list(self.channels),
        }


@dataclass(frozen=True)
class ApiCall:
    """One request the stand-in received, with the answer it gave."""

    method: str
    args: JsonDict
    at: float
    status: int
    error: str | None
    detail: JsonDict = field(default_factory=dict)  # the error answer's other fields


@dataclass
class _Directory:
    users: dict[str, User]
    channels: dict[str, Channel]
    usergroups: dict[str, list[str]]


def _format_ts(seconds: float) -> str:
    micros = round(seconds * 1_000_000)
    return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"


class Workspace:
    """Everything the stand-in knows; safe to read from a test while the server thread writes."""

    def __init__(
        self,
        *,
        team_id: str = "T0STANDIN",
        team_name: str = "mqlbot stand-in",
        team_domain: str = "standin",
        bot_user_id: str = "U_MQLBOT",
        bot_name: str = "mqlbot",
        bot_id: str = "B_MQLBOT",
        app_id: str = "A_MQLBOT",
        clock: Clock = time.time,
        trigger_ttl: float = TRIGGER_TTL_SECONDS,
        rate_limit: RateLimitPolicy | None = None,
    ) -> None:
        self.team_id = team_id
        self.team_name = team_name
        self.team_domain = team_domain
        self.bot_user_id = bot_user_id
        self.bot_id = bot_id
        self.app_id = app_id
        self.clock = clock
        self.trigger_ttl = trigger_ttl
        self.faults = FaultPlan(clock)
        self.rate_limiter = RateLimiter(clock, rate_limit)
        self._lock = threading.RLock()
        # Bumped on every change a reader could see; the demo page polls it to push updates.
        self.revision = 0
        self._last_ts_us = 0
        self._counter = 0
        self.users: dict[str, User] = {}
        self.channels: dict[str, Channel] = {}
        self.usergroups: dict[str, list[str]] = {}
        self._seed: _Directory | None = None
        self.add_user(User(bot_user_id, bot_name, bot_name, is_bot=True))
        self._clear_activity()

    # ----- directory -------------------------------------------------------------------------

    def add_user(self, user: User) -> User:
        with self._lock:
            self.users[user.id] = user
        return user

    def add_channel(
        self, channel_id: str, name: str, members: Iterable[str], *, is_private: bool = False
    ) -> Channel:
        member_list = list(members)
        unknown = [m for m in member_list if m not in self.users]
        if unknown:
            raise ValueError(f"channel {channel_id} lists unknown users: {', '.join(unknown)}")
        with self._lock:
            channel = Channel(channel_id, name, member_list, is_private, created=int(self.clock()))
            self.channels[channel_id] = channel
        return channel

    def add_usergroup(self, usergroup_id: str, members: Iterable[str]) -> None:
        member_list = list(members)
        unknown = [m for m in member_list if m not in self.users]
        if unknown:
            raise ValueError(f"usergroup {usergroup_id} lists unknown users: {', '.join(unknown)}")
        with self._lock:
            self.usergroups[usergroup_id] = member_list

    def freeze_directory(self) -> None:
        """Remember users, channels and groups as they are now; `reset()` returns to this."""
        with self._lock:
            self._seed = _Directory(
                copy.deepcopy(self.users),
                copy.deepcopy(self.channels),
                copy.deepcopy(self.usergroups),
            )

    @classmethod
    def seeded(
        cls,
        *,
        sdr_channel: str = "C_SDR",
        marketing_channel: str = "C_MKT",
        general_channel: str = "C_GENERAL",
        sdr_usergroup: str = "S_SDR",
        manager_usergroup: str = "S_MGR",
        **kwargs: Any,
    ) -> Workspace:
        """A small bilingual sales team: 3 SDRs, 2 managers, 2 marketers, and the bot.

        The bot is in the SDR and marketing channels but not in #general.
        """
        ws = cls(**kwargs)
        sdrs = [
            User("U_SATO", "sato", "佐藤 愛子", "Asia/Tokyo", "ja-JP", email="sato@example.co.jp"),
            User(
                "U_TANAKA", "tanaka", "田中 健", "Asia/Tokyo", "ja-JP", email="tanaka@example.co.jp"
            ),
            User("U_EMILY", "emily", "Emily Carter", "America/New_York", email="emily@example.com"),
        ]
        managers = [
            User(
                "U_SUZUKI",
                "suzuki",
                "鈴木 一郎",
                "Asia/Tokyo",
                "ja-JP",
                email="suzuki@example.co.jp",
            ),
            User("U_JAMES", "james", "James Wilson", "Europe/London", email="james@example.com"),
        ]
        marketers = [
            User("U_YAMAMOTO", "yamamoto", "山本 花子", "Asia/Tokyo", "ja-JP"),
            User("U_OLIVIA", "olivia", "Olivia Brown", "America/Los_Angeles"),
        ]
        for user in (*sdrs, *managers, *marketers):
            ws.add_user(user)
        bot = ws.bot_user_id
        ids = [u.id for u in (*sdrs, *managers, *marketers)]
        ws.add_channel(sdr_channel, "inside-sales", [bot, *(u.id for u in (*sdrs, *managers))])
        ws.add_channel(
            marketing_channel, "marketing", [bot, *(u.id for u in (*marketers, *managers))]
        )
        ws.add_channel(general_channel, "general", ids)
        ws.add_usergroup(sdr_usergroup, [u.id for u in sdrs])
        ws.add_usergroup(manager_usergroup, [u.id for u in managers])
        ws.freeze_directory()
        return ws

    def reset(self) -> None:
        """Forget all activity (messages, views, files, calls, faults); keep the seeded directory."""
        with self._lock:
            if self._seed is not None:
                self.users = copy.deepcopy(self._seed.users)
                self.channels = copy.deepcopy(self._seed.channels)
                self.usergroups = copy.deepcopy(self._seed.usergroups)
            else:
                self.channels = {k: c for k, c in self.channels.items() if not c.is_im}
            self._clear_activity()
            self.faults.clear()
            self.rate_limiter.reset()
            self.revision += 1

    def _clear_activity(self) -> None:
        self._messages: dict[str, list[Message]] = {}
        self._ephemerals: list[Ephemeral] = []
        self.views: dict[str, View] = {}
        self.home_tabs: dict[str, View] = {}
        self.files: dict[str, UploadedFile] = {}
        self._triggers: dict[str, tuple[float, str, bool]] = {}
        self._calls: list[ApiCall] = []
        self._response_urls: dict[str, tuple[str, str, str | None]] = {}

    # ----- ids and lookups -------------------------------------------------------------------

    def _next_id(self, prefix: str) -> str:
        self._counter += 1
        return f"{prefix}{self._counter:09d}"

    def next_ts(self) -> str:
        """A message ts: the clock in microseconds, forced strictly increasing like Slack's."""
        with self._lock:
            now_us = round(self.clock() * 1_000_000)
            self._last_ts_us = max(now_us, self._last_ts_us + 1)
            return _format_ts(self._last_ts_us / 1_000_000)

    def user(self, user_id: str) -> User:
        found = self.users.get(user_id)
        if found is None:
            raise StandinError("user_not_found")
        return found

    def channel(self, ref: str) -> Channel:
        """A channel by id or by name (with or without `#`)."""
        with self._lock:
            found = self.channels.get(ref)
            if found is None:
                name = ref.removeprefix("#")
                found = next((c for c in self.channels.values() if c.name == name), None)
            if found is None:
                raise StandinError("channel_not_found")
            return found

    def channel_for_post(self, ref: str) -> Channel:
        """Resolve where a post lands: a user id means the bot's DM with that user (as on Slack)."""
        if ref in self.users:
            channel, _ = self.open_conversation([ref])
            return channel
        return self.channel(ref)

    # ----- messages --------------------------------------------------------------------------

    def post_message(
        self,
        channel_id: str,
        *,
        user: str | None = None,
        text: str = "",
        blocks: list[JsonDict] | None = None,
        thread_ts: str | None = None,
        reply_broadcast: bool = False,
        metadata: JsonDict | None = None,
        attachments: list[JsonDict] | None = None,
        unfurl_links: bool | None = None,
        unfurl_media: bool | None = None,
        files: list[str] | None = None,
    ) -> Message:
        """Store a message; `user=None` means the bot posted it."""
        author = user or self.bot_user_id
        with self._lock:
            channel = self.channel(channel_id)
            if thread_ts is not None:
                parent = self._find(channel.id, thread_ts)
                if parent is None:
                    raise StandinError("thread_not_found")
                # Replying to a reply lands in the same thread, as in the Slack client.
                thread_ts = parent.thread_ts or parent.ts
            ts = self.next_ts()
            message = Message(
                channel=channel.id,
                ts=ts,
                user=author,
                text=text,
                blocks=copy.deepcopy(blocks or []),
                thread_ts=thread_ts,
                reply_broadcast=reply_broadcast,
                bot_id=self.bot_id if author == self.bot_user_id else None,
                metadata=copy.deepcopy(metadata),
                attachments=copy.deepcopy(attachments),
                unfurl_links=unfurl_links,
                unfurl_media=unfurl_media,
                files=list(files or []),
            )
            message.history.append(
                MessageVersion(text, copy.deepcopy(message.blocks), self.clock())
            )
            self._messages.setdefault(channel.id, []).append(message)
            self.revision += 1
            if thread_ts is not None:
                root = self._find(channel.id, thread_ts)
                if root is not None and root.thread_ts is None:
                    root.thread_ts = root.ts
            return message

    def update_message(
        self,
        channel_id: str,
        ts: str,
        *,
        text: str | None = None,
        blocks: list[JsonDict] | None = None,
        attachments: list[JsonDict] | None = None,
        by: str | None = None,
    ) -> Message:
        """Apply a chat.update: fields left as None keep their old value (as on Slack)."""
        with self._lock:
            channel = self.channel(channel_id)
            message = self._find(channel.id, ts)
            if message is None:
                raise StandinError("message_not_found")
            if message.user != (by or self.bot_user_id):
                raise StandinError("cant_update_message")
            if text is not None:
                message.text = text
            if blocks is not None:
                message.blocks = copy.deepcopy(blocks)
            if attachments is not None:
                message.attachments = copy.deepcopy(attachments)
            message.history.append(
                MessageVersion(message.text, copy.deepcopy(message.blocks), self.clock())
            )
            self.revision += 1
            return message

    def delete_message(self, channel_id: str, ts: str) -> None:
        with self._lock:
            channel = self.channel(channel_id)
            message = self._find(channel.id, ts)
            if message is None:
                raise StandinError("message_not_found")
            self._messages[channel.id].remove(message)
            self.revision += 1

    def _find(self, channel_id: str, ts: str) -> Message | None:
        return next((m for m in self._messages.get(channel_id, []) if m.ts == ts), None)

    def message(self, channel_id: str, ts: str) -> Message:
        with self._lock:
            found = self._find(self.channel(channel_id).id, ts)
        if found is None:
            raise StandinError("message_not_found")
        return found

    def messages(self, channel_id: str) -> list[Message]:
        """Every message in the channel (top level and thread replies) in posting order."""
        with self._lock:
            return list(self._messages.get(self.channel(channel_id).id, []))

    def top_level(self, channel_id: str) -> list[Message]:
        """What the channel shows: top-level messages plus replies broadcast to the channel."""
        return [m for m in self.messages(channel_id) if not m.is_reply or m.reply_broadcast]

    def replies(self, channel_id: str, thread_ts: str) -> list[Message]:
        return [m for m in self.messages(channel_id) if m.is_reply and m.thread_ts == thread_ts]

    def permalink(self, channel_id: str, ts: str) -> str:
        message = self.message(channel_id, ts)
        base = f"https://{self.team_domain}.slack.com/archives/{message.channel}/p{ts.replace('.', '')}"
        if message.is_reply:
            return f"{base}?thread_ts={message.thread_ts}&cid={message.channel}"
        return base

    # ----- ephemeral messages ----------------------------------------------------------------

    def post_ephemeral(
        self,
        channel_id: str,
        user: str,
        *,
        text: str = "",
        blocks: list[JsonDict] | None = None,
        thread_ts: str | None = None,
    ) -> Ephemeral:
        with self._lock:
            channel = self.channel(channel_id)
            self.user(user)
            if user not in channel.members:
                raise StandinError("user_not_in_channel")
            ephemeral = Ephemeral(
                channel.id, user, self.next_ts(), text, copy.deepcopy(blocks or []), thread_ts
            )
            self._ephemerals.append(ephemeral)
            self.revision += 1
            return ephemeral

    def ephemerals(self, channel_id: str, user: str | None = None) -> list[Ephemeral]:
        with self._lock:
            return [
                e
                for e in self._ephemerals
                if e.channel == channel_id and (user is None or e.user == user)
            ]

    # ----- conversations ---------------------------------------------------------------------

    def open_conversation(self, user_ids: list[str]) -> tuple[Channel, bool]:
        """The bot's DM (one user) or group DM (several); returns it and whether it existed."""
        if not user_ids:
            raise StandinError("users_list_not_supplied")
        for uid in user_ids:
            self.user(uid)
        with self._lock:
            wanted = {*user_ids, self.bot_user_id}
            for channel in self.channels.values():
                if (channel.is_im or channel.is_mpim) and set(channel.members) == wanted:
                    return channel, True
            if len(user_ids) == 1:
                channel = Channel(
                    self._next_id("D"),
                    user_ids[0],
                    [user_ids[0], self.bot_user_id],
                    is_im=True,
                    im_user=user_ids[0],
                    created=int(self.clock()),
                )
            else:
                channel = Channel(
                    self._next_id("G"),
                    "mpdm-" + "--".join(self.users[u].name for u in user_ids) + "-1",
                    [*user_ids, self.bot_user_id],
                    is_mpim=True,
                    created=int(self.clock()),
                )
            self.channels[channel.id] = channel
            return channel, False

    def dm_channel(self, user_id: str) -> Channel | None:
        """The bot's open DM with this user, if conversations.open created one."""
        with self._lock:
            return next(
                (c for c in self.channels.values() if c.is_im and c.im_user == user_id), None
            )

    def usergroup_members(self, usergroup_id: str) -> list[str]:
        members = self.usergroups.get(usergroup_id)
        if members is None:
            raise StandinError("no_such_subteam")
        return list(members)

    # ----- triggers, response urls and views -------------------------------------------------

    def issue_trigger(self, user_id: str) -> str:
        """A fresh trigger id, as Slack attaches to a click or command, valid for `trigger_ttl`."""
        with self._lock:
            self._counter += 1
            trigger = f"{int(self.clock())}.{self._counter}.{secrets.token_hex(16)}"
            self._triggers[trigger] = (self.clock(), user_id, False)
            return trigger

    def consume_trigger(self, trigger_id: str) -> str:
        """Exchange a trigger for a view; returns the user it was issued to."""
        with self._lock:
            entry = self._triggers.get(trigger_id)
            if entry is None:
                raise StandinError("expired_trigger_id")
            issued, user_id, used = entry
            if used:
                raise StandinError("exchanged_trigger_id")
            if self.clock() - issued > self.trigger_ttl:
                raise StandinError("expired_trigger_id")
            self._triggers[trigger_id] = (issued, user_id, True)
            return user_id

    def issue_response_url(self, channel_id: str, user_id: str, message_ts: str | None) -> str:
        """Register a response_url target (the message a click came from); returns its token."""
        with self._lock:
            token = secrets.token_urlsafe(16)
            self._response_urls[token] = (channel_id, user_id, message_ts)
            return token

    def response_url_target(self, token: str) -> tuple[str, str, str | None]:
        """(channel, user, message ts) a response_url token points at."""
        with self._lock:
            target = self._response_urls.get(token)
        if target is None:
            raise StandinError("expired_url")
        return target

    def _new_hash(self) -> str:
        self._counter += 1
        return f"{int(self.clock())}.{self._counter:08d}"

    def open_view(self, user_id: str, payload: JsonDict) -> View:
        with self._lock:
            view_id = self._next_id("V")
            view = View(
                id=view_id,
                type=str(payload.get("type", "modal")),
                payload=copy.deepcopy(payload),
                hash=self._new_hash(),
                user_id=user_id,
                external_id=payload.get("external_id"),
                root_view_id=view_id,
            )
            view.history.append(copy.deepcopy(payload))
            self.views[view_id] = view
            self.revision += 1
            return view

    def push_view(self, user_id: str, payload: JsonDict, previous: View) -> View:
        view = self.open_view(user_id, payload)
        view.previous_view_id = previous.id
        view.root_view_id = previous.root_view_id or previous.id
        return view

    def find_view(self, *, view_id: str | None, external_id: str | None) -> View:
        with self._lock:
            if view_id:
                found = self.views.get(view_id)
            else:
                found = next((v for v in self.views.values() if v.external_id == external_id), None)
            if found is None:
                raise StandinError("not_found")
            return found

    def update_view(self, view: View, payload: JsonDict, *, hash: str | None) -> View:
        """views.update: the whole view is replaced; a stale `hash` is a conflict."""
        with self._lock:
            if hash is not None and hash != view.hash:
                raise StandinError("hash_conflict")
            view.payload = copy.deepcopy(payload)
            view.type = str(payload.get("type", view.type))
            if payload.get("external_id"):
                view.external_id = payload["external_id"]
            view.hash = self._new_hash()
            view.history.append(copy.deepcopy(payload))
            self.revision += 1
            return view

    def publish_home(self, user_id: str, payload: JsonDict, *, hash: str | None) -> View:
        self.user(user_id)
        with self._lock:
            current = self.home_tabs.get(user_id)
            if current is None:
                if hash is not None:
                    raise StandinError("hash_conflict")
                view = self.open_view(user_id, payload)
                self.home_tabs[user_id] = view
                return view
            return self.update_view(current, payload, hash=hash)

    # ----- files -----------------------------------------------------------------------------

    def start_upload(self, filename: str, length: int, alt_txt: str | None) -> UploadedFile:
        with self._lock:
            upload = UploadedFile(self._next_id("F"), filename, length, alt_txt=alt_txt)
            self.files[upload.id] = upload
            return upload

    def receive_upload(self, file_id: str, content: bytes) -> UploadedFile:
        with self._lock:
            upload = self.files.get(file_id)
            if upload is None:
                raise StandinError("file_not_found")
            upload.content = content
            return upload

    def complete_upload(
        self,
        items: list[JsonDict],
        *,
        channels: list[str],
        initial_comment: str | None,
        thread_ts: str | None,
    ) -> list[UploadedFile]:
        """files.completeUploadExternal: share the uploaded files (one message per channel)."""
        with self._lock:
            done: list[UploadedFile] = []
            for item in items:
                upload = self.files.get(str(item.get("id", "")))
                if upload is None or upload.content is None:
                    raise StandinError("file_not_found")
                done.append(upload)
            targets = [self.channel(c) for c in channels]
            for upload, item in zip(done, items, strict=True):
                upload.title = item.get("title") or upload.filename
                upload.completed = True
                upload.initial_comment = initial_comment
                upload.thread_ts = thread_ts
                upload.channels = [c.id for c in targets]
            for channel in targets:
                self.post_message(
                    channel.id,
                    text=initial_comment or "",
                    thread_ts=thread_ts,
                    files=[u.id for u in done],
                )
            return done

    # ----- calls -----------------------------------------------------------------------------

    def record_call(
        self,
        method: str,
        args: JsonDict,
        *,
        status: int = 200,
        error: str | None = None,
        detail: JsonDict | None = None,
    ) -> None:
        with self._lock:
            self._calls.append(ApiCall(method, args, self.clock(), status, error, detail or {}))
            self.revision += 1

    def calls(self, method: str | None = None) -> list[ApiCall]:
        """Every API request received so far (optionally one method), oldest first."""
        with self._lock:
            return [c for c in self._calls if method is None or c.method == method]

    # ----- dump ------------------------------------------------------------------------------

    def to_json(self) -> JsonDict:
        """A JSON-ready snapshot for the control API and for debugging a failed test."""
        with self._lock:
            return {
                "team": {"id": self.team_id, "name": self.team_name, "domain": self.team_domain},
                "bot": {"user_id": self.bot_user_id, "bot_id": self.bot_id, "app_id": self.app_id},
                "users": [u.to_api(self.team_id) for u in self.users.values()],
                "channels": [
                    {**c.to_api(self.bot_user_id), "members": list(c.members)}
                    for c in self.channels.values()
                ],
                "usergroups": {k: list(v) for k, v in self.usergroups.items()},
                "messages": {
                    ch: [
                        {
                            **m.to_api(self.team_id, self.app_id),
                            "reply_broadcast": m.reply_broadcast,
                            "versions": len(m.history),
                        }
                        for m in msgs
                    ]
                    for ch, msgs in self._messages.items()
                },
                "ephemerals": [
                    {
                        "channel": e.channel,
                        "user": e.user,
                        "ts": e.ts,
                        "text": e.text,
                        "blocks": e.blocks,
                        "thread_ts": e.thread_ts,
                    }
                    for e in self._ephemerals
                ],
                "views": [
                    {**v.to_api(self.team_id, self.app_id, self.bot_id), "user_id": v.user_id}
                    for v in self.views.values()
                ],
                "home_tabs": {u: v.id for u, v in self.home_tabs.items()},
                "files": [
                    {
                        **f.to_api(),
                        "length": f.length,
                        "completed": f.completed,
                        "initial_comment": f.initial_comment,
                        "thread_ts": f.thread_ts,
                    }
                    for f in self.files.values()
                ],
                "calls": [
                    {
                        "method": c.method,
                        "args": c.args,
                        "at": c.at,
                        "status": c.status,
                        "error": c.error,
                    }
                    for c in self._calls
                ],
                "faults": self.faults.pending(),
                "down": self.faults.is_down(),
                "rate_limit": {
                    "enabled": self.rate_limiter.policy.enabled,
                    "per_second": self.rate_limiter.policy.per_second,
                    "burst": self.rate_limiter.policy.burst,
                },
            }
