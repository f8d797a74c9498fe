"""Who may claim: the configured SDRs and usergroup, else the SDR channel's members (cached)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from handlers.context import HandlerConfig

log = logging.getLogger(__name__)

MEMBERS_PAGE = 1000


class Membership:
    """Answers "may this user claim?" from a member list fetched at most once per TTL.

    ``sdr_users`` and the members of ``sdr_usergroup`` may claim; when both are empty, every
    member of ``sdr_channel`` may. One lock makes a burst of clicks share one refresh, and a
    failed refresh keeps serving the last list it had (an outage must not block every claim).
    """

    def __init__(self, config: HandlerConfig, *, clock: Callable[[], float] = time.monotonic):
        self._config = config
        self._clock = clock
        self._ttl = config.member_cache_ttl.total_seconds()
        self._members: frozenset[str] | None = None
        self._fetched_at = 0.0
        self._lock = asyncio.Lock()

    @property
    def static(self) -> bool:
        """True when the configuration alone decides (only ``sdr_users``): no Slack call needed."""
        return bool(self._config.sdr_users) and not self._config.sdr_usergroup

    async def may_claim(self, client: AsyncWebClient, user_id: str) -> bool:
        """Whether ``user_id`` may claim MQLs."""
        if user_id in self._config.sdr_users:
            return True
        if self.static:
            return False
        return user_id in await self.members(client)

    async def members(self, client: AsyncWebClient) -> frozenset[str]:
        """The fetched part of the member list (usergroup, else channel), refreshed after the TTL."""
        if self._fresh():
            assert self._members is not None
            return self._members
        async with self._lock:
            if self._fresh():  # another click refreshed it while this one waited
                assert self._members is not None
                return self._members
            try:
                members = await self._fetch(client)
            except SlackApiError as exc:
                if self._members is None:
                    raise
                log.warning("member list refresh failed, keeping the cached one: %s", exc)
                members = self._members
            self._members = members
            self._fetched_at = self._clock()
            return members

    def _fresh(self) -> bool:
        return self._members is not None and self._clock() - self._fetched_at < self._ttl

    async def _fetch(self, client: AsyncWebClient) -> frozenset[str]:
        group = self._config.sdr_usergroup
        if group:
            response = await client.usergroups_users_list(usergroup=group)
            return frozenset(str(u) for u in response.get("users") or [])
        found: set[str] = set()
        cursor: str | None = None
        while True:
            response = await client.conversations_members(
                channel=self._config.sdr_channel, cursor=cursor, limit=MEMBERS_PAGE
            )
            found.update(str(u) for u in response.get("members") or [])
            cursor = (response.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                return frozenset(found)
