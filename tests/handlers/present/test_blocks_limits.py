"""Whatever the input (long, Japanese, emoji, mrkdwn characters), every builder stays in Block Kit limits."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from handlers.present.blocks import (
    card_blocks,
    card_text,
    disposition_reply,
    disqualify_modal,
    home_view,
    lead_modal,
    reassign_modal,
    recycle_modal,
    sql_modal,
)
from handlers.present.catalog import Catalog
from handlers.present.views import (
    ActivityView,
    CardState,
    CardView,
    HomeItem,
    HomeView,
    LeadView,
    RequalifiedView,
    SdrCount,
    SlaStage,
    SlaView,
    TeamView,
    WeekFigures,
)
from tests.handlers.present.blockkit import message_problems, view_problems

CATALOGS = st.sampled_from(
    [Catalog("en", ZoneInfo("Asia/Tokyo")), Catalog("ja", ZoneInfo("America/New_York"))]
)
PIECES = st.sampled_from(
    ["", " ", "<", ">", "&", "&amp;", "<!channel>", "*", "\n", "日本語", "🎉", "👩‍💻", "a"]
)
# Long text is built by repetition: generating 5,000 random characters is slow and no more useful.
TEXT = st.one_of(
    st.text(max_size=40),
    st.builds(
        lambda parts, n: "".join(parts) * n, st.lists(PIECES, max_size=6), st.integers(0, 400)
    ),
)
MAYBE_TEXT = st.none() | TEXT
TIMES = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)
DATES = st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 1, 1))
IDS = st.from_regex(r"[A-Z0-9]{1,12}", fullmatch=True)
MQL_IDS = st.from_regex(r"[0-9a-f-]{1,36}", fullmatch=True)
DURATIONS = st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=400))
URLS = st.none() | st.sampled_from(
    ["https://crm.example/l/1", "https://x.example/" + "a" * 3100, "bad url|<x>"]
)
REASON = st.fixed_dictionaries(
    {"kind": st.sampled_from(["threshold", "trigger", "external", "odd", ""])},
    optional={
        "score": st.integers() | TEXT,
        "threshold": st.integers(),
        "trigger": TEXT,
        "event_types": st.lists(TEXT, max_size=5) | TEXT,
        "event_labels": st.lists(st.none() | TEXT, max_size=5),
    },
)
ACTIVITY = st.builds(
    ActivityView, type=TEXT, label=TEXT, occurred_at=TIMES, points=st.integers(-(10**6), 10**6)
)
SLA = st.none() | st.builds(
    SlaView, stage=st.sampled_from(SlaStage), elapsed=DURATIONS, over_sla=st.booleans()
)


@st.composite
def cards(draw: st.DrawFn) -> CardView:
    activities = draw(st.lists(ACTIVITY, max_size=4))
    return CardView(
        mql_id=draw(MQL_IDS),
        lead=LeadView(
            draw(TEXT), draw(TEXT), draw(TEXT), draw(TEXT), draw(TEXT), draw(TEXT), draw(URLS)
        ),
        score=draw(st.integers(-(10**9), 10**9)),
        reasons=draw(st.lists(REASON, max_size=40)),
        activities=activities * draw(st.integers(1, 60)),
        created_at=draw(TIMES),
        state=draw(st.sampled_from(CardState)),
        owner_id=draw(st.none() | IDS),
        claimed_at=draw(st.none() | TIMES),
        reason=draw(MAYBE_TEXT),
        note=draw(MAYBE_TEXT),
        next_step=draw(MAYBE_TEXT),
        next_step_date=draw(st.none() | DATES),
        recycle_until=draw(st.none() | DATES),
        disposition_by=draw(st.none() | IDS),
        disposition_at=draw(st.none() | TIMES),
        requalified=draw(
            st.none()
            | st.builds(RequalifiedView, st.sampled_from(CardState), MAYBE_TEXT, TIMES, URLS)
        ),
        sla=draw(SLA),
    )


SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(view=cards(), catalog=CATALOGS, now=TIMES)
def test_card_always_fits(view: CardView, catalog: Catalog, now: datetime) -> None:
    blocks = card_blocks(view, catalog, now=now)
    assert message_problems(card_text(view, catalog), blocks) == []


HOME_ITEM = st.builds(
    HomeItem,
    mql_id=MQL_IDS,
    lead_name=TEXT,
    company=TEXT,
    score=st.integers(),
    state=st.sampled_from(CardState),
    created_at=TIMES,
    owner_id=st.none() | IDS,
    permalink=URLS,
    sla=SLA,
)


@SETTINGS
@given(
    items=st.lists(HOME_ITEM, max_size=3),
    copies=st.integers(1, 80),
    catalog=CATALOGS,
    now=TIMES,
    manager=st.booleans(),
    median=st.none() | DURATIONS,
)
def test_home_always_fits(
    items: list[HomeItem],
    copies: int,
    catalog: Catalog,
    now: datetime,
    manager: bool,
    median: timedelta | None,
) -> None:
    many = items * copies
    team = TeamView(
        unclaimed_count=len(many),
        unclaimed=many,
        overdue=many,
        per_sdr=[SdrCount(f"U{i}", i, i) for i in range(copies * 3)],
    )
    week = WeekFigures(1, 2, 3, 4, 5, median)
    view = home_view(HomeView("U1", manager, many, week, team), catalog, now)
    assert view_problems(view) == []


@SETTINGS
@given(
    reasons=st.dictionaries(
        st.text(min_size=1, max_size=150).filter(str.strip), DURATIONS, min_size=1, max_size=100
    ),
    name=MAYBE_TEXT,
    today=st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 1, 1)),
    catalog=CATALOGS,
    mql_id=MQL_IDS,
)
def test_modals_always_fit(
    reasons: dict[str, timedelta], name: str | None, today: date, catalog: Catalog, mql_id: str
) -> None:
    default = sorted(reasons)[-1]
    views = [
        recycle_modal(mql_id, reasons, default, today, catalog, lead_name=name),
        disqualify_modal(mql_id, list(reasons), catalog, lead_name=name),
        sql_modal(mql_id, catalog, lead_name=name),
        lead_modal(mql_id, catalog, lead_name=name, today=today),
        reassign_modal(mql_id, catalog, current_owner="U1", lead_name=name),
    ]
    for view in views:
        assert view_problems(view) == []


@SETTINGS
@given(
    disposition=st.sampled_from(["sql", "lead", "recycled", "disqualified"]),
    reason=MAYBE_TEXT,
    step=MAYBE_TEXT,
    note=MAYBE_TEXT,
    day=st.none() | DATES,
    catalog=CATALOGS,
)
def test_replies_never_fail_and_stay_short(
    disposition: str,
    reason: str | None,
    step: str | None,
    note: str | None,
    day: date | None,
    catalog: Catalog,
) -> None:
    text = disposition_reply(
        "U1", disposition, catalog, reason=reason, recycle_until=day, next_step=step,
        next_step_date=day, note=note,
    )  # fmt: skip
    assert text.startswith("<@U1> → ")
    assert len(text) <= 3000


def test_the_validator_itself_catches_what_slack_refuses() -> None:
    too_long = [{"type": "header", "text": {"type": "plain_text", "text": "x" * 151}}]
    lone_option = [
        {
            "type": "actions",
            "elements": [
                {
                    "type": "overflow",
                    "action_id": "a",
                    "options": [{"text": {"type": "plain_text", "text": "x"}, "value": "v"}],
                }
            ],
        }
    ]
    assert message_problems("t", too_long) != []
    assert message_problems("t", lone_option) != []
    assert message_problems(" ", []) != []
    assert (
        message_problems("t", [{"type": "section", "text": {"type": "mrkdwn", "text": " "}}]) != []
    )
