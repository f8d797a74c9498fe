"""The weekly digest's messages in English and Japanese, merged into the shared message catalog."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final
from zoneinfo import ZoneInfo

from handlers.context import Language
from handlers.present.catalog import MESSAGES, Catalog
from handlers.present.names import NO_NAMES, DisplayNames

EN: Final[dict[str, str]] = {
    "digest.title": "MQL digest: {period}",
    "digest.stats_title": "MQL figures: {period}",
    "digest.range": "{start} – {end}",
    "digest.scope": (
        "MQLs created {start} – {end} ({zone}), as they stood at the end. "
        "Trends compare with the {weeks} periods before."
    ),
    "digest.scope_week": (
        "MQLs created that week, Monday 00:00 to Sunday 24:00 ({zone}), as they stood at its "
        "end. Trends compare with the {weeks} weeks before."
    ),
    "digest.fallback": "MQL digest {period}: {created} MQLs, {sql} SQL ({rate})",
    "digest.empty": "No MQLs were created in this period.",
    "digest.funnel": "*Funnel*",
    "digest.created": "MQLs created: *{count}*{trend}",
    "digest.claimed": "Claimed: *{count}* ({rate})",
    "digest.claim_time": "Time to claim (business hours): median *{median}*, 90th percentile *{p90}*{trend}",
    "digest.claim_time_none": "Time to claim: no claim yet",
    "digest.breaches": "SLA breaches: *{count}*{trend}",
    "digest.outcomes": (
        "Outcomes: SQL *{sql}* · Lead *{lead}* · Recycled *{recycled}* · "
        "Disqualified *{disqualified}* · still open *{open}*"
    ),
    "digest.conversion": "MQL → SQL: *{rate}* ({sql}/{created}){trend}",
    "digest.conversion_small": "MQL → SQL: *{sql}/{created}*{trend}",
    "digest.trend_count": " ({arrow} vs avg {baseline})",
    "digest.trend_points": " ({points} pts vs {baseline})",
    "digest.trend_small": " (before: {baseline})",
    "digest.trend_duration": " (avg before {baseline})",
    "digest.by_source": "*MQL → SQL by source*",
    "digest.by_campaign": "*MQL → SQL by campaign*",
    "digest.by_band": "*MQL → SQL by score band* (threshold {threshold})",
    "digest.by_kind": "*Triggers vs threshold*",
    "digest.conv": "• {name}: *{rate}* → SQL ({sql}/{mqls})",
    "digest.conv_small": "• {name}: *{sql}/{mqls}* → SQL",
    "digest.conv_empty": "• {name}: no MQLs",
    "digest.none": "(none)",
    "digest.other": "other",
    "digest.band.below": "score < {high}",
    "digest.band.low": "{low} ≤ score < {high}",
    "digest.band.mid": "{low} ≤ score < {high}",
    "digest.band.high": "score ≥ {low}",
    "digest.kind.threshold": "Threshold",
    "digest.kind.trigger": "Trigger",
    "digest.kind.external": "External score",
    "digest.disqualify_reasons": "*Top disqualification reasons*",
    "digest.recycle_reasons": "*Top recycle reasons*",
    "digest.reason": "• {reason}: {count}",
    "digest.no_reasons": "none",
    "digest.returning": "*Recycled leads returning by {until}* ({count})",
    "digest.returning_line": "• {who} — {day} · {reason}",
    "digest.unworked": "*Unworked MQLs past the SLA* ({count})",
    "digest.unworked_open": "• {who} — unclaimed since {since}",
    "digest.unworked_claimed": "• {who} — claimed by <@{owner}> {since}, no outcome yet",
    "digest.more": "+{count} more",
    "digest.small_note": "Rates over fewer than {min} MQLs are shown as counts.",
    "digest.chart_title": "Chart: MQL funnel and conversion by source, {period}",
    # The chart (plain text, no mrkdwn).
    "chart.title": "MQL outcomes {period}",
    "chart.funnel": "Funnel",
    "chart.created": "Created",
    "chart.claimed": "Claimed",
    "chart.sql": "SQL",
    "chart.by_source": "MQL → SQL by source",
    "chart.rate_axis": "MQL → SQL (%)",
    "chart.count_axis": "MQLs",
    "chart.small": "fewer than {min} MQLs: counts shown",
    "chart.no_sources": "no MQLs",
}

JA: Final[dict[str, str]] = {
    "digest.title": "MQLダイジェスト：{period}",
    "digest.stats_title": "MQL集計：{period}",
    "digest.range": "{start}〜{end}",
    "digest.scope": (
        "{start}〜{end}（{zone}）に作成されたMQLの、期間末時点の状況です。"
        "傾向は直前{weeks}期間との比較です。"
    ),
    "digest.scope_week": (
        "この週（{zone}の月曜0:00〜日曜24:00）に作成されたMQLの、週末時点の状況です。"
        "傾向は直前{weeks}週との比較です。"
    ),
    "digest.fallback": "MQLダイジェスト {period}：MQL {created}件、SQL {sql}件（{rate}）",
    "digest.empty": "この期間に作成されたMQLはありません。",
    "digest.funnel": "*ファネル*",
    "digest.created": "作成されたMQL：*{count}件*{trend}",
    "digest.claimed": "担当決定：*{count}件*（{rate}）",
    "digest.claim_time": "担当決定までの時間（営業時間）：中央値 *{median}*、90パーセンタイル *{p90}*{trend}",
    "digest.claim_time_none": "担当決定までの時間：まだ担当決定なし",
    "digest.breaches": "SLA違反：*{count}件*{trend}",
    "digest.outcomes": (
        "結果：SQL *{sql}* ・ リード *{lead}* ・ リサイクル *{recycled}* ・ "
        "失格 *{disqualified}* ・ 未処理 *{open}*"
    ),
    "digest.conversion": "MQL → SQL：*{rate}*（{sql}/{created}）{trend}",
    "digest.conversion_small": "MQL → SQL：*{sql}/{created}*{trend}",
    "digest.trend_count": "（平均比 {arrow}、平均 {baseline}）",
    "digest.trend_points": "（{points}ポイント、以前 {baseline}）",
    "digest.trend_small": "（以前 {baseline}）",
    "digest.trend_duration": "（以前の平均 {baseline}）",
    "digest.by_source": "*ソース別 MQL → SQL*",
    "digest.by_campaign": "*キャンペーン別 MQL → SQL*",
    "digest.by_band": "*スコア帯別 MQL → SQL*（しきい値 {threshold}）",
    "digest.by_kind": "*トリガー対しきい値*",
    "digest.conv": "• {name}：SQL化 *{rate}*（{sql}/{mqls}）",
    "digest.conv_small": "• {name}：SQL化 *{sql}/{mqls}*",
    "digest.conv_empty": "• {name}：MQLなし",
    "digest.none": "（なし）",
    "digest.other": "その他",
    "digest.band.below": "スコア {high} 未満",
    "digest.band.low": "{low} ≤ スコア < {high}",
    "digest.band.mid": "{low} ≤ スコア < {high}",
    "digest.band.high": "スコア {low} 以上",
    "digest.kind.threshold": "しきい値",
    "digest.kind.trigger": "行動トリガー",
    "digest.kind.external": "外部スコア",
    "digest.disqualify_reasons": "*失格理由の上位*",
    "digest.recycle_reasons": "*リサイクル理由の上位*",
    "digest.reason": "• {reason}：{count}件",
    "digest.no_reasons": "なし",
    "digest.returning": "*{until}までに戻るリサイクルリード*（{count}件）",
    "digest.returning_line": "• {who} — {day} ・ {reason}",
    "digest.unworked": "*SLA超過の未処理MQL*（{count}件）",
    "digest.unworked_open": "• {who} — {since}から担当者なし",
    "digest.unworked_claimed": "• {who} — <@{owner}> が{since}に担当、結果未登録",
    "digest.more": "ほか{count}件",
    "digest.small_note": "MQLが{min}件未満の率は件数で表示しています。",
    "digest.chart_title": "グラフ：MQLファネルとソース別SQL化率（{period}）",
    "chart.title": "MQLの結果 {period}",
    "chart.funnel": "ファネル",
    "chart.created": "作成",
    "chart.claimed": "担当決定",
    "chart.sql": "SQL",
    "chart.by_source": "ソース別 MQL → SQL",
    "chart.rate_axis": "MQL → SQL（%）",
    "chart.count_axis": "MQL数",
    "chart.small": "MQL {min}件未満は件数で表示",
    "chart.no_sources": "MQLなし",
}

DIGEST_MESSAGES: Final[Mapping[str, Mapping[str, str]]] = {
    "en": {**MESSAGES["en"], **EN},
    "ja": {**MESSAGES["ja"], **JA},
}


def digest_catalog(
    language: Language, timezone: ZoneInfo, names: DisplayNames = NO_NAMES
) -> Catalog:
    """The shared catalog with the digest's messages added."""
    return Catalog(language, timezone, messages=DIGEST_MESSAGES, names=names)
