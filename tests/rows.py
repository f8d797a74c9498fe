"""Shared test builder: a lead and its MQL stored together, as qualification leaves them."""

from __future__ import annotations

from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from store.models import Lead, Mql, MqlState


async def add_lead_and_mql(session: AsyncSession, lead: Lead, **mql_fields: Any) -> int:
    """Add ``lead`` and one MQL of it (``mql_fields``, ``state`` required); return the MQL id.

    An open or claimed MQL holds the lead's open slot (``open_lead_id``), as the unique index
    that keeps one open MQL per lead requires; a decided one does not.
    """
    session.add(lead)
    await session.flush()
    assert lead.id is not None
    is_open = mql_fields["state"] in (MqlState.OPEN, MqlState.CLAIMED)
    mql = Mql(lead_id=lead.id, open_lead_id=lead.id if is_open else None, **mql_fields)
    session.add(mql)
    await session.flush()
    assert mql.id is not None
    return mql.id
