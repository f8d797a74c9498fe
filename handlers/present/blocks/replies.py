"""Texts for thread replies, reminders, DMs and ephemeral answers (mrkdwn strings)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Final

from handlers.dispositions import DISPOSITION_OF
from handlers.present.blocks._text import MAX_FALLBACK_TEXT, clip_mrkdwn, esc, escape, link
from handlers.present.catalog import Catalog

_ID: Final = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_REASON: Final = 200
_TEXT: Final = 500
_NOTE: Final = 1000


def _uid(user_id: str) -> str:
    # Mentions are built from ids Slack or the settings gave us; refuse anything that could
    # smuggle mrkdwn (a forged "U1>@<!channel" would otherwise ping everyone).
    if not _ID.fullmatch(user_id):
        raise ValueError(f"{user_id[:40]!r} is not a Slack user, group or channel id")
    return user_id


def format_mentions(
    *,
    user_ids: Sequence[str] = (),
    usergroup_ids: Sequence[str] = (),
    channel: bool = False,
) -> str:
    """``<@U1> <@U2>``, ``<!subteam^S1>`` and/or ``<!channel>``, space separated, for reminders."""
    parts = [f"<@{_uid(u)}>" for u in user_ids]
    parts += [f"<!subteam^{_uid(s)}>" for s in usergroup_ids]
    if channel:
        parts.append("<!channel>")
    return " ".join(parts)


def _done(text: str) -> str:
    return clip_mrkdwn(text, MAX_FALLBACK_TEXT)


def _with_note(text: str, note: str | None) -> str:
    if not note or not note.strip():
        return text
    quoted = [f"> {line}" for line in escape(note.strip()[:_NOTE]).splitlines() if line.strip()]
    return "\n".join([text, *quoted])


def claim_reply(user_id: str, after_mql: timedelta, catalog: Catalog) -> str:
    """``<@U1> claimed this MQL · 3 min after MQL``."""
    elapsed = catalog.format_duration(max(after_mql, timedelta(0)))
    return _done(catalog.t("reply.claimed", user=_uid(user_id), elapsed=elapsed))


def release_reply(manager_id: str, previous_owner_id: str, catalog: Catalog) -> str:
    """A manager released someone's claim; the card is open again."""
    return _done(
        catalog.t("reply.released", manager=_uid(manager_id), owner=_uid(previous_owner_id))
    )


def reassign_reply(
    manager_id: str, previous_owner_id: str | None, new_owner_id: str, catalog: Catalog
) -> str:
    """A manager reassigned (or, when nobody owned it, assigned) the MQL."""
    if previous_owner_id is None:
        return _done(catalog.t("reply.assigned", manager=_uid(manager_id), new=_uid(new_owner_id)))
    text = catalog.t(
        "reply.reassigned",
        manager=_uid(manager_id),
        old=_uid(previous_owner_id),
        new=_uid(new_owner_id),
    )
    return _done(text)


def reopen_reply(manager_id: str, catalog: Catalog) -> str:
    """A manager reopened a disqualified MQL."""
    return _done(catalog.t("reply.reopened", manager=_uid(manager_id)))


def disposition_reply(
    user_id: str,
    disposition: str,
    catalog: Catalog,
    *,
    reason: str | None = None,
    recycle_until: date | None = None,
    next_step: str | None = None,
    next_step_date: date | None = None,
    note: str | None = None,
) -> str:
    """``<@U1> → Recycled (Timing), back on 2026-05-24`` and the like, with the note quoted.

    ``disposition`` is sql / lead / recycled / disqualified; ``reason`` the recycle or
    disqualify reason key.
    """
    user = _uid(user_id)
    label = escape(catalog.disposition_label(disposition))
    spec = DISPOSITION_OF.get(disposition)
    if spec is not None and spec.reason is not None and reason:
        reason_label = esc(catalog.disposition_reason_label(disposition, reason), _REASON)
        if spec.returns and recycle_until is not None:
            text = catalog.t(
                "reply.disposition_recycled",
                user=user,
                label=label,
                reason=reason_label,
                date=catalog.format_date(recycle_until),
            )
        else:
            text = catalog.t(
                "reply.disposition_reason", user=user, label=label, reason=reason_label
            )
    elif disposition == "lead" and next_step and next_step.strip():
        step = esc(next_step, _TEXT)
        if next_step_date is None:
            text = catalog.t("reply.disposition_lead_no_date", user=user, label=label, step=step)
        else:
            day = catalog.format_date(next_step_date)
            text = catalog.t("reply.disposition_lead", user=user, label=label, step=step, date=day)
    else:
        text = catalog.t("reply.disposition", user=user, label=label)
    return _done(_with_note(text, note))


def recycle_return_reply(reason: str, catalog: Catalog) -> str:
    """``Back from recycle (Timing): …`` in the card's thread when the return date comes."""
    label = esc(catalog.recycle_reason_label(reason), _REASON)
    return _done(catalog.t("reply.recycle_return", reason=label))


def unclaimed_reminder(mentions: str, elapsed: timedelta, catalog: Catalog) -> str:
    """Thread reply for an unclaimed card; ``mentions`` from ``format_mentions``."""
    text = catalog.t(
        "reminder.unclaimed", mentions=mentions, elapsed=catalog.format_duration(elapsed)
    )
    return _done(text.strip())


def unclaimed_escalation(manager_ids: Sequence[str], elapsed: timedelta, catalog: Catalog) -> str:
    """Thread reply mentioning the managers: still unclaimed after ``elapsed`` business time."""
    mentions = format_mentions(user_ids=manager_ids)
    text = catalog.t(
        "reminder.escalate_unclaimed", mentions=mentions, elapsed=catalog.format_duration(elapsed)
    )
    return _done(text.strip())


def unworked_escalation(
    manager_ids: Sequence[str], owner_id: str, elapsed: timedelta, catalog: Catalog
) -> str:
    """Thread reply mentioning the managers: claimed but no disposition after ``elapsed``."""
    text = catalog.t(
        "reminder.escalate_unworked",
        mentions=format_mentions(user_ids=manager_ids),
        owner=_uid(owner_id),
        elapsed=catalog.format_duration(elapsed),
    )
    return _done(text.strip())


def owner_reminder_dm(
    lead_name: str, permalink: str | None, elapsed: timedelta, catalog: Catalog
) -> str:
    """DM to the owner of a claimed, undispositioned MQL, linking to its card."""
    name = " ".join(lead_name.split())[:_REASON] or catalog.t("card.unknown_lead")
    text = catalog.t(
        "reminder.owner_dm", link=link(permalink, name), elapsed=catalog.format_duration(elapsed)
    )
    return _done(text)


def auto_assign_notice(user_id: str, catalog: Catalog) -> str:
    """Thread reply when the escalation assigned the MQL by round robin."""
    return _done(catalog.t("reminder.auto_assigned", user=_uid(user_id)))


# Ephemeral answers to a click.


def already_claimed(owner_id: str, catalog: Catalog) -> str:
    """``Already claimed by <@U1>.``"""
    return catalog.t("ephemeral.already_claimed", owner=_uid(owner_id))


def not_allowed_to_claim(catalog: Catalog) -> str:
    """The clicker is not an SDR."""
    return catalog.t("ephemeral.not_allowed_claim")


def not_allowed_to_disposition(owner_id: str | None, catalog: Catalog) -> str:
    """The clicker is neither the owner nor a manager (or nobody has claimed it yet)."""
    if owner_id is None:
        return catalog.t("ephemeral.claim_first")
    return catalog.t("ephemeral.not_allowed_disposition", owner=_uid(owner_id))


def not_a_manager(catalog: Catalog) -> str:
    """A manager-only action by someone else."""
    return catalog.t("ephemeral.not_a_manager")


def mql_not_found(catalog: Catalog) -> str:
    """The button's id matches no MQL (deleted, or a forged payload)."""
    return catalog.t("ephemeral.not_found")
