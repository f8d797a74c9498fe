"""The demo's sample leads and their activity, each text in English and Japanese."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple


class Both(NamedTuple):
    """A text of the sample data in both languages: what a team's tools would hold."""

    en: str
    ja: str


@dataclass(frozen=True)
class SampleLead:
    """A lead of the demo and the activity that brings it (or not) over the line."""

    lead: dict[str, Any]
    events: list[tuple[str, dict[str, Any], dict[str, Any]]]  # (type, properties, extra fields)


SQL_NOTE = Both(
    "Budget approved for Q1; meeting booked.", "第1四半期の予算が承認済み。商談を設定しました。"
)
MA_GUIDE = Both("MA implementation guide", "MA導入ガイド")
SCORING_PAPER = Both("Lead scoring whitepaper", "リードスコアリング入門")

SAMPLE_LEADS = (
    SampleLead(
        {
            "id": "crm-00042",
            "email": "aiko.sato@example.co.jp",
            "name": "佐藤 愛子",
            "company": "株式会社サンプル",
            "title": Both("Head of Marketing", "マーケティング部 部長"),
            "source": "webinar",
            "campaign": "2026-11-ma-seminar",
        },
        [
            ("email_opened", {"subject": Both("MA seminar follow-up", "MAセミナーのご案内")}, {}),
            ("page_visited", {"url": "https://example.com/solutions/ma"}, {}),
            ("content_downloaded", {"asset": MA_GUIDE}, {}),
            ("content_downloaded", {"asset": SCORING_PAPER}, {}),
            ("event_attended", {"event": Both("MA seminar, Nov 2026", "11月 MAセミナー")}, {}),
            ("form_submitted", {"form": Both("Contact us", "お問い合わせ")}, {}),
            ("content_downloaded", {"asset": Both("Pricing overview", "料金表")}, {}),
        ],
    ),
    SampleLead(
        {
            "id": "crm-00077",
            "email": "daniel.kim@northwind.example",
            "name": "Daniel Kim",
            "company": "Northwind Traders",
            "title": Both("Head of Demand Generation", "デマンドジェネレーション責任者"),
            "source": "paid_search",
            "campaign": "q4-pricing",
        },
        [
            ("video_watched", {"video": Both("Product demo (12 min)", "製品デモ（12分）")}, {}),
            ("page_visited", {"url": "https://example.com/pricing"}, {}),
        ],
    ),
    SampleLead(
        {
            "id": "crm-00105",
            "email": "hanako.yamada@contoso.example.jp",
            "name": "山田 花子",
            "company": "コントソ・ジャパン",
            "title": Both("Sales planning", "営業企画"),
            "source": "content_syndication",
            "campaign": "2026-industry-report",
        },
        [("score_changed", {"tool": Both("marketing automation", "MAツール")}, {"score": 120})],
    ),
    SampleLead(
        {
            "id": "crm-00131",
            "email": "kenji.watanabe@univ.example.ac.jp",
            "name": "渡辺 健二",
            "company": Both("Example University", "サンプル大学"),
            "title": Both("Student", "学生"),
            "source": "organic",
            "campaign": "blog",
        },
        [
            ("form_submitted", {"form": Both("Newsletter sign-up", "メルマガ登録")}, {}),
            ("event_attended", {"event": Both("Open webinar", "公開ウェビナー")}, {}),
            ("content_downloaded", {"asset": MA_GUIDE}, {}),
            ("content_downloaded", {"asset": SCORING_PAPER}, {}),
            ("content_downloaded", {"asset": Both("Case study: retail", "導入事例：小売")}, {}),
            ("content_downloaded", {"asset": Both("Case study: finance", "導入事例：金融")}, {}),
        ],
    ),
    SampleLead(
        {
            "id": "crm-00200",
            "email": "lisa.chen@fabrikam.example",
            "name": "Lisa Chen",
            "company": "Fabrikam",
            "title": Both("Marketing Specialist", "マーケティング担当"),
            "source": "newsletter",
            "campaign": "2026-11-newsletter",
        },
        [
            ("email_opened", {"subject": Both("November newsletter", "11月のメールマガジン")}, {}),
            ("email_clicked", {"url": "https://example.com/blog/scoring"}, {}),
        ],
    ),
)

# The sample campaigns go by code, as marketing tools send them; the demo names them.
CAMPAIGN_NAMES = {
    "2026-11-ma-seminar": {"en": "MA seminar, Nov 2026", "ja": "2026年11月 MAセミナー"},
    "q4-pricing": {"en": "Q4 pricing", "ja": "第4四半期 料金キャンペーン"},
    "2026-industry-report": {"en": "2026 industry report", "ja": "2026年 業界レポート"},
    "blog": {"en": "Blog", "ja": "ブログ"},
    "2026-11-newsletter": {"en": "November newsletter", "ja": "11月のメールマガジン"},
}


def in_language(value: Any, language: str) -> Any:
    """``value`` with every ``Both`` replaced by its text in ``language``."""
    if isinstance(value, Both):
        return value.ja if language == "ja" else value.en
    if isinstance(value, dict):
        return {key: in_language(item, language) for key, item in value.items()}
    return value


def sample_events(now: datetime, language: str) -> list[dict[str, Any]]:
    """The native events of every sample lead, in the last two hours before ``now``."""
    out = []
    for number, sample in enumerate(SAMPLE_LEADS):
        start = now - timedelta(hours=2, minutes=10 * number)
        lead = in_language(sample.lead, language)
        for index, (kind, properties, extra) in enumerate(sample.events):
            out.append(
                {
                    "id": f"demo-{sample.lead['id']}-{index}",
                    "type": kind,
                    "occurred_at": (start + timedelta(minutes=7 * index)).isoformat(),
                    "lead": lead,
                    "properties": in_language(properties, language),
                    **extra,
                }
            )
    return out
