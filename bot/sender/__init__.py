"""The sender: drains the outbox to Slack and the CRM webhook, paced per channel, retried, never twice.

Delivery guarantee. A row is leased before it is sent and marked sent in its own transaction
right after Slack answers, so a sent row is never sent again. One window remains: the process
dies (or loses its database) after Slack accepted a message but before that commit. The lease
then expires and the row is "in doubt". Before re-sending an in-doubt post, reply or DM, the
sender looks for its marker (``metadata.event_payload.mqlbot_outbox_key``) in the channel or
thread with conversations.history / conversations.replies, and records the message it finds
instead of posting again; an in-doubt card update is skipped when the card already carries its
marker. Only if that lookup is impossible (no history scope) is the row sent again (at least
once; for an update that is harmless, it is idempotent). Home tabs are idempotent; uploads and
CRM webhooks in doubt are re-sent (the webhook carries ``X-MQLBot-Delivery`` so the receiver
can drop the repeat).

Modules, one concept each: ``options`` (how it drains), ``policy`` (what a failure means and
the backoff), ``payloads`` (a row's payload as Web API arguments, with its marker),
``signing`` (the CRM webhook's signature), ``lookup`` (the in-doubt probes above),
``deliveries`` (one function per outbox kind, looked up by kind), ``wire`` (the connections,
every call counted) and ``worker`` (the lease, deliver, record loop). `mqlbot sender` runs it
alone.
"""

from bot.sender.options import SenderOptions
from bot.sender.payloads import MARKER_KEY
from bot.sender.policy import (
    Delivered,
    GiveUp,
    Outcome,
    PayloadError,
    Retry,
    TargetNotReady,
    WebhookError,
    backoff_delay,
    classify,
)
from bot.sender.signing import sign_webhook
from bot.sender.worker import DrainReport, Sender, drain_once, run_sender

__all__ = [
    "MARKER_KEY",
    "Delivered",
    "DrainReport",
    "GiveUp",
    "Outcome",
    "PayloadError",
    "Retry",
    "Sender",
    "SenderOptions",
    "TargetNotReady",
    "WebhookError",
    "backoff_delay",
    "classify",
    "drain_once",
    "run_sender",
    "sign_webhook",
]
