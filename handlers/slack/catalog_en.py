"""English messages of the catalog (Slack mrkdwn templates, str.format placeholders)."""

from __future__ import annotations

from typing import Final

MESSAGES: Final[dict[str, str]] = {
    # Buttons and labels.
    "button.claim": "Claim",
    "disposition.sql": "SQL",
    "disposition.lead": "Lead",
    "disposition.recycled": "Recycled",
    "disposition.disqualified": "Disqualified",
    "state.open": "Unclaimed",
    "state.claimed": "Claimed",
    "manager.release": "Release claim",
    "manager.reassign": "Reassign…",
    "manager.reopen": "Reopen",
    # Recycle and disqualify reasons (unknown configured keys are humanised instead).
    "recycle_reason.competitor_contract": "Under contract with a competitor",
    "recycle_reason.timing": "Timing",
    "recycle_reason.budget": "Budget",
    "recycle_reason.no_project": "No project",
    "disqualify_reason.competitor": "Competitor",
    "disqualify_reason.student": "Student",
    "disqualify_reason.spam": "Spam",
    "disqualify_reason.invalid_contact": "Invalid contact",
    "disqualify_reason.existing_customer": "Existing customer",
    # Event types (unknown types are shown as they are).
    "event.email_opened": "Email opened",
    "event.email_clicked": "Email clicked",
    "event.page_visited": "Page visited",
    "event.content_downloaded": "Content downloaded",
    "event.video_watched": "Video watched",
    "event.form_submitted": "Form submitted",
    "event.event_attended": "Event attended",
    "event.score_changed": "Score changed",
    "event.unsubscribed": "Unsubscribed",
    "event.with_label": "{event} ({label})",
    # Durations and lists.
    "duration.days": "{n} d",
    "duration.hours": "{n} h",
    "duration.minutes": "{n} min",
    "duration.under_minute": "< 1 min",
    "duration.pair": "{first} {second}",
    "list.separator": ", ",
    "points": "{points} pts",
    # Why an MQL qualified.
    "reason.threshold": "score {score} ≥ {threshold}",
    "reason.threshold_after": "score {score} ≥ {threshold} after {events}",
    "reason.trigger": "trigger: {trigger}",
    "reason.trigger_events": "trigger: {trigger} ({events})",
    "reason.external": "score {score} ≥ {threshold} (scored by the marketing tool)",
    "reason.external_after": (
        "score {score} ≥ {threshold} after {events} (scored by the marketing tool)"
    ),
    # The card.
    "card.unknown_lead": "Unknown lead",
    "card.field.title": "Title",
    "card.field.company": "Company",
    "card.field.email": "E-mail",
    "card.field.source": "Source",
    "card.field.campaign": "Campaign",
    "card.field.score": "Score",
    "card.why": "Why it qualified",
    "card.activity": "Recent activity",
    "card.activity_line": "{when} · {event} · {points}",
    "card.no_activity": "No activity recorded",
    "card.more": "+{count} more",
    "card.created": "MQL since {when}",
    "card.crm_link": "Open in CRM",
    "card.requalified": "Qualified again — {disposition} on {date} ({reason})",
    "card.requalified_no_reason": "Qualified again — {disposition} on {date}",
    "card.previous.open": "unclaimed",
    "card.previous.claimed": "claimed",
    "card.previous.sql": "SQL",
    "card.previous.lead": "kept as Lead",
    "card.previous.recycled": "recycled",
    "card.previous.disqualified": "disqualified",
    "card.claimed_by_only": "Claimed by <@{user}>",
    "card.next_step_overdue": "{text} — overdue",
    "card.earlier_card": "earlier card",
    "card.claimed_by": "Claimed by <@{user}> · {elapsed} after MQL",
    "card.outcome": "*{label}* by <@{user}>",
    "card.outcome_reason": "Reason: {reason}",
    "card.outcome_recycle": "Reason: {reason} · back on {date}",
    "card.outcome_next_step": "Next step: {step} · {date}",
    "card.outcome_next_step_no_date": "Next step: {step}",
    "card.fallback": "MQL: {name} ({company}) · score {score} · {state}",
    "card.fallback_claimed": "MQL: {name} ({company}) · score {score} · {state} · <@{user}>",
    "sla.unclaimed": "Unclaimed {elapsed}",
    "sla.unworked": "No disposition for {elapsed}",
    "sla.over": "{state} — over SLA",
    # Modals (titles at most 24 characters).
    "modal.submit": "Save",
    "modal.cancel": "Cancel",
    "modal.about": "MQL: {name}",
    "modal.choose": "Choose…",
    "modal.sql.title": "SQL",
    "modal.sql.note": "Note",
    "modal.lead.title": "Lead",
    "modal.lead.next_step": "Next step",
    "modal.lead.date": "Date",
    "modal.recycle.title": "Recycle",
    "modal.recycle.reason": "Reason",
    "modal.recycle.date": "Back to Lead on",
    "modal.recycle.hint": "{reason}: {days} days by default; change the reason to reset it.",
    "modal.disqualify.title": "Disqualify",
    "modal.disqualify.reason": "Reason",
    "modal.disqualify.note": "Note",
    "modal.reassign.title": "Reassign",
    "modal.reassign.user": "New owner",
    "modal.error.invalid": "Please check this field.",
    "modal.error.date_future": "Pick a date after today.",
    "modal.error.date_today": "Pick today or a later date.",
    "modal.error.unknown_reason": "Choose one of the listed reasons.",
    # Thread replies.
    "reply.claimed": "<@{user}> claimed this MQL · {elapsed} after MQL",
    "reply.released": "<@{manager}> released the claim of <@{owner}>: this MQL is open again.",
    "reply.reassigned": "<@{manager}> reassigned this MQL from <@{old}> to <@{new}>.",
    "reply.assigned": "<@{manager}> assigned this MQL to <@{new}>.",
    "reply.reopened": "<@{manager}> reopened this MQL.",
    "reply.disposition": "<@{user}> → {label}",
    "reply.disposition_reason": "<@{user}> → {label} ({reason})",
    "reply.disposition_recycled": "<@{user}> → {label} ({reason}), back on {date}",
    "reply.disposition_lead": "<@{user}> → {label}, next step: {step} ({date})",
    "reply.disposition_lead_no_date": "<@{user}> → {label}, next step: {step}",
    "reply.recycle_return": (
        "Back from recycle ({reason}): this is a Lead again and must qualify again through "
        "fresh activity."
    ),
    "reminder.unclaimed": (
        "{mentions} This MQL has been unclaimed for {elapsed} (business time). Who takes it?"
    ),
    "reminder.escalate_unclaimed": (
        "{mentions} Escalation: this MQL is still unclaimed after {elapsed} (business time)."
    ),
    "reminder.owner_dm": (
        "Reminder: you claimed {link} {elapsed} ago (business time) and it has no disposition yet."
    ),
    "reminder.escalate_unworked": (
        "{mentions} Escalation: <@{owner}> claimed this MQL {elapsed} ago (business time) "
        "and it has no disposition yet."
    ),
    "reminder.auto_assigned": (
        "Nobody claimed this MQL in time: assigned to <@{user}> (round robin)."
    ),
    # Ephemeral answers.
    "ephemeral.already_claimed": "Already claimed by <@{owner}>.",
    "ephemeral.not_allowed_claim": "Only the inside-sales team can claim MQLs.",
    "ephemeral.not_allowed_disposition": (
        "Only the owner (<@{owner}>) or a manager can change this MQL."
    ),
    "ephemeral.claim_first": "Claim this MQL first.",
    "ephemeral.not_a_manager": "Only managers can do that.",
    "ephemeral.not_found": "This MQL no longer exists.",
    "ephemeral.disqualified_locked": (
        "This MQL is disqualified: only a manager can reopen or change it."
    ),
    "ephemeral.release_not_claimed": (
        "Only a claimed MQL without a disposition can be released; reassign it instead."
    ),
    "ephemeral.reopen_not_disqualified": "Only a disqualified MQL can be reopened.",
    "ephemeral.changed_meanwhile": (
        "This MQL changed in the meantime, so nothing was saved. Check the card and try again."
    ),
    # App Home.
    "home.mine": "Your open MQLs",
    "home.mine_empty": "Nothing open. Well done.",
    "home.item": "{link} · {company} · score {score}",
    "home.item_since": "{state} · MQL since {when}",
    "home.open_card": "Open card",
    "home.week": "Your week",
    "home.week.claimed": "Claimed",
    "home.week.median": "Median time to claim",
    "home.team": "Team",
    "home.unclaimed": "Unclaimed: {count}",
    "home.overdue": "Overdue",
    "home.overdue_empty": "Nothing overdue.",
    "home.per_sdr": "Per SDR",
    "home.sdr_line": "<@{user}>: {open} open, {overdue} overdue",
}
