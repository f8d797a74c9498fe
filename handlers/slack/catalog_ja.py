"""Japanese messages of the catalog (same keys and placeholders as catalog_en)."""

from __future__ import annotations

from typing import Final

MESSAGES: Final[dict[str, str]] = {
    # Buttons and labels.
    "button.claim": "担当する",
    "disposition.sql": "SQL",
    "disposition.lead": "リード",
    "disposition.recycled": "リサイクル",
    "disposition.disqualified": "失格",
    "state.open": "未担当",
    "state.claimed": "担当中",
    "manager.release": "担当を解除",
    "manager.reassign": "担当者を変更…",
    "manager.reopen": "再オープン",
    # Recycle and disqualify reasons.
    "recycle_reason.competitor_contract": "競合と契約中",
    "recycle_reason.timing": "検討時期が先",
    "recycle_reason.budget": "予算なし",
    "recycle_reason.no_project": "案件なし",
    "disqualify_reason.competitor": "競合企業",
    "disqualify_reason.student": "学生",
    "disqualify_reason.spam": "スパム",
    "disqualify_reason.invalid_contact": "連絡先が無効",
    "disqualify_reason.existing_customer": "既存顧客",
    # Event types.
    "event.email_opened": "メール開封",
    "event.email_clicked": "メール内リンクのクリック",
    "event.page_visited": "ページ閲覧",
    "event.content_downloaded": "資料ダウンロード",
    "event.video_watched": "動画視聴",
    "event.form_submitted": "フォーム送信",
    "event.event_attended": "イベント参加",
    "event.score_changed": "スコア変更",
    "event.unsubscribed": "配信停止",
    "event.with_label": "{event}（{label}）",
    # Durations and lists.
    "duration.days": "{n}日",
    "duration.hours": "{n}時間",
    "duration.minutes": "{n}分",
    "duration.under_minute": "1分未満",
    "duration.pair": "{first}{second}",
    "list.separator": "、",
    "points": "{points}点",
    # Why an MQL qualified.
    "reason.threshold": "スコア {score} ≥ {threshold}",
    "reason.threshold_after": "{events} でスコア {score} ≥ {threshold}",
    "reason.trigger": "トリガー: {trigger}",
    "reason.trigger_events": "トリガー: {trigger}（{events}）",
    "reason.external": "スコア {score} ≥ {threshold}（マーケティングツールの判定）",
    "reason.external_after": "{events} でスコア {score} ≥ {threshold}（マーケティングツールの判定）",
    # The card.
    "card.unknown_lead": "氏名不明",
    "card.field.title": "役職",
    "card.field.company": "会社",
    "card.field.email": "メール",
    "card.field.source": "流入元",
    "card.field.campaign": "キャンペーン",
    "card.field.score": "スコア",
    "card.why": "MQL になった理由",
    "card.activity": "最近の行動",
    "card.activity_line": "{when} · {event} · {points}",
    "card.no_activity": "行動の記録はありません",
    "card.more": "ほか {count} 件",
    "card.created": "MQL 作成: {when}",
    "card.crm_link": "CRM で開く",
    "card.requalified": "再び MQL になりました — {date} に{disposition}（{reason}）",
    "card.requalified_no_reason": "再び MQL になりました — {date} に{disposition}",
    "card.previous.open": "未担当",
    "card.previous.claimed": "担当中",
    "card.previous.sql": "SQL",
    "card.previous.lead": "リード",
    "card.previous.recycled": "リサイクル",
    "card.previous.disqualified": "失格",
    "card.claimed_by_only": "担当: <@{user}>",
    "card.next_step_overdue": "{text} — 期限切れ",
    "card.earlier_card": "以前のカード",
    "card.claimed_by": "担当: <@{user}>（MQL から {elapsed}）",
    "card.outcome": "*{label}*（<@{user}>）",
    "card.outcome_reason": "理由: {reason}",
    "card.outcome_recycle": "理由: {reason}・{date} にリードへ戻ります",
    "card.outcome_next_step": "次のアクション: {step}・{date}",
    "card.outcome_next_step_no_date": "次のアクション: {step}",
    "card.fallback": "MQL: {name}（{company}）スコア {score}・{state}",
    "card.fallback_claimed": "MQL: {name}（{company}）スコア {score}・{state}・<@{user}>",
    "sla.unclaimed": "未担当 {elapsed}",
    "sla.unworked": "未分類 {elapsed}",
    "sla.over": "{state} — SLA 超過",
    # Modals.
    "modal.submit": "保存",
    "modal.cancel": "キャンセル",
    "modal.about": "対象: {name}",
    "modal.choose": "選択…",
    "modal.sql.title": "SQL",
    "modal.sql.note": "メモ",
    "modal.lead.title": "リード",
    "modal.lead.next_step": "次のアクション",
    "modal.lead.date": "期日",
    "modal.recycle.title": "リサイクル",
    "modal.recycle.reason": "理由",
    "modal.recycle.date": "リードに戻す日",
    "modal.recycle.hint": "{reason}: 既定は {days} 日後です。理由を変えると日付も変わります。",
    "modal.disqualify.title": "失格",
    "modal.disqualify.reason": "理由",
    "modal.disqualify.note": "メモ",
    "modal.reassign.title": "担当者の変更",
    "modal.reassign.user": "新しい担当者",
    "modal.error.invalid": "この項目を確認してください。",
    "modal.error.date_future": "明日以降の日付を選んでください。",
    "modal.error.date_today": "今日以降の日付を選んでください。",
    "modal.error.unknown_reason": "一覧から理由を選んでください。",
    # Thread replies.
    "reply.claimed": "<@{user}> が担当しました（MQL から {elapsed}）",
    "reply.released": "<@{manager}> が <@{owner}> の担当を解除しました。この MQL は未担当に戻りました。",
    "reply.reassigned": "<@{manager}> が担当者を <@{old}> から <@{new}> に変更しました。",
    "reply.assigned": "<@{manager}> がこの MQL を <@{new}> に割り当てました。",
    "reply.reopened": "<@{manager}> がこの MQL を再オープンしました。",
    "reply.disposition": "<@{user}> → {label}",
    "reply.disposition_reason": "<@{user}> → {label}（{reason}）",
    "reply.disposition_recycled": "<@{user}> → {label}（{reason}）、{date} にリードへ戻ります",
    "reply.disposition_lead": "<@{user}> → {label}、次のアクション: {step}（{date}）",
    "reply.disposition_lead_no_date": "<@{user}> → {label}、次のアクション: {step}",
    "reply.recycle_return": (
        "リサイクルから戻りました（{reason}）。リードに戻り、新しい行動で再び MQL になるのを待ちます。"
    ),
    "reminder.unclaimed": (
        "{mentions} この MQL は {elapsed}（営業時間）担当者がいません。どなたか担当してください。"
    ),
    "reminder.escalate_unclaimed": (
        "{mentions} エスカレーション: この MQL は {elapsed}（営業時間）経っても未担当です。"
    ),
    "reminder.owner_dm": "リマインダー: 担当中の {link} が {elapsed}（営業時間）経っても未分類です。",
    "reminder.escalate_unworked": (
        "{mentions} エスカレーション: <@{owner}> が担当して {elapsed}（営業時間）経ちましたが、"
        "まだ分類されていません。"
    ),
    "reminder.auto_assigned": (
        "期限内に担当者がいなかったため、<@{user}> に割り当てました（ラウンドロビン）。"
    ),
    # Ephemeral answers.
    "ephemeral.already_claimed": "すでに <@{owner}> が担当しています。",
    "ephemeral.not_allowed_claim": "MQL を担当できるのはインサイドセールスのメンバーだけです。",
    "ephemeral.not_allowed_disposition": (
        "この MQL を変更できるのは担当者（<@{owner}>）かマネージャーだけです。"
    ),
    "ephemeral.claim_first": "先にこの MQL を担当してください。",
    "ephemeral.not_a_manager": "この操作はマネージャーだけが行えます。",
    "ephemeral.not_found": "この MQL は見つかりません。",
    "ephemeral.disqualified_locked": (
        "この MQL は失格になっています。再開や変更ができるのはマネージャーだけです。"
    ),
    "ephemeral.release_not_claimed": (
        "解除できるのは、担当済みで判定前の MQL だけです。担当者の変更をご利用ください。"
    ),
    "ephemeral.reopen_not_disqualified": "再開できるのは失格の MQL だけです。",
    "ephemeral.changed_meanwhile": (
        "この MQL はその間に変更されたため、保存されませんでした。カードを確認してやり直してください。"
    ),
    # App Home.
    "home.mine": "担当中の MQL",
    "home.mine_empty": "担当中の MQL はありません。",
    "home.item": "{link}・{company}・スコア {score}",
    "home.item_since": "{state}・MQL 作成: {when}",
    "home.open_card": "カードを開く",
    "home.week": "今週の実績",
    "home.week.claimed": "担当",
    "home.week.median": "担当までの時間（中央値）",
    "home.team": "チーム",
    "home.unclaimed": "未担当: {count} 件",
    "home.overdue": "SLA 超過",
    "home.overdue_empty": "SLA 超過はありません。",
    "home.per_sdr": "SDR 別",
    "home.sdr_line": "<@{user}>: 担当中 {open} 件、超過 {overdue} 件",
}
