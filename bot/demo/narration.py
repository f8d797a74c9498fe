"""What the demo says between the channels it shows, in English and Japanese."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any, Final

from handlers.present.catalog import Catalog

EN: Final[dict[str, str]] = {
    "post": "→ POST /webhooks/events with {events} events for {leads} leads",
    "cards": "  {count} MQL cards posted to #inside-sales\n",
    "claim_first": "佐藤 clicks {claim} on the first card",
    "claim_again": "田中 clicks {claim} on the same card a moment later",
    "classify_sql": "佐藤 classifies it as {label}",
    "claim_second": "Emily claims the second card",
    "recycle": "Emily marks it {label}",
    "claim_fourth": "田中 claims the fourth card",
    "disqualify": "田中 marks it {label}",
    "modal": "  fills in the modal and submits it: {values}",
    "modal_value": "{label} “{value}”",
    "nag": "→ 20 minutes later the reminder job runs: the third card is still unclaimed",
    "digest": "→ {when}: the weekly digest goes to #marketing",
    "still_queued": "  (some messages were still queued when the demo stopped)",
    "kept": "demo database kept in {path}",
}

JA: Final[dict[str, str]] = {
    "post": "→ POST /webhooks/events：リード{leads}件のイベント{events}件を送信",
    "answer": "← {status}：{accepted}件を受け付け（重複 {duplicates}件）、MQL になったリード {count}件：{ids}",
    "cards": "  #inside-sales に MQL カードが{count}件投稿されました\n",
    "claim_first": "佐藤さんが1枚目のカードの「{claim}」をクリック",
    "claim_again": "田中さんも少し遅れて同じカードの「{claim}」をクリック",
    "classify_sql": "佐藤さんが「{label}」に分類",
    "claim_second": "Emily さんが2枚目のカードを担当",
    "recycle": "Emily さんが「{label}」に分類",
    "claim_fourth": "田中さんが4枚目のカードを担当",
    "disqualify": "田中さんが「{label}」に分類",
    "modal": "  モーダルに入力して送信：{values}",
    "modal_value": "{label}「{value}」",
    "nag": "→ 20分後、リマインダーのジョブが動きます：3枚目のカードはまだ担当者がいません",
    "digest": "→ {when}、週次ダイジェストが #marketing に届きます",
    "still_queued": "  （デモ終了時にまだ送信待ちのメッセージがありました）",
    "kept": "デモのデータベースを残しました：{path}",
    "job.nag": "  リマインダーのジョブ（{slot}）：MQL {checked}件を確認、未担当のリマインド {reminded}件",
    "job.digest": (
        "  ダイジェストのジョブ（{slot}）：{week}、MQL {mqls}件・SQL {sql}件、送信待ちに {queued}件"
    ),
    "job.skipped": "  {job} のジョブ（{slot}）：この回は実行済み",
    "job.other": "  {job} のジョブ（{slot}）：完了",
}


class Narrator:
    """The demo's lines in the bot's language; English prints the HTTP answer and job summaries
    as they are (what a developer sees), Japanese says them in words."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.language = catalog.language
        self._lines: Mapping[str, str] = JA if self.language == "ja" else EN

    def t(self, key: str, /, **params: object) -> str:
        return (self._lines.get(key) or EN[key]).format(**params)

    def answer(self, status: int, text: str, body: Mapping[str, Any]) -> str:
        """The webhook's answer to the sample events."""
        if self.language != "ja":
            return f"← {status} {text}"
        mqls = list(body.get("mqls", []))
        return self.t(
            "answer",
            status=status,
            accepted=body.get("accepted", 0),
            duplicates=body.get("duplicates", 0),
            count=len(mqls),
            ids="、".join(str(m) for m in mqls),
        )

    def job(self, summary: Mapping[str, Any]) -> str:
        """A scheduled job's summary, as `mqlbot jobs run` prints it or in words."""
        if self.language != "ja":
            return f"  {dict(summary)}"
        job, slot = summary.get("job"), summary.get("slot")
        if summary.get("outcome") == "skipped":
            return self.t("job.skipped", job=job, slot=slot)
        if job == "nag":
            return self.t(
                "job.nag",
                slot=slot,
                checked=summary.get("checked", 0),
                reminded=summary.get("unclaimed_reminded", 0),
            )
        if job == "digest":
            return self.t(
                "job.digest",
                slot=slot,
                week=self._week(str(summary.get("start", ""))),
                mqls=summary.get("mqls", 0),
                sql=summary.get("sql", 0),
                queued=summary.get("queued", 0),
            )
        return self.t("job.other", job=job, slot=slot)

    def _week(self, start: str) -> str:
        day: date = datetime.fromisoformat(start).date()
        return (
            self.catalog.format_week(day) if day.weekday() == 0 else self.catalog.format_date(day)
        )
