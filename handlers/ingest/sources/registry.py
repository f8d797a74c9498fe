"""Every tool mqlbot speaks natively, by the name in `/webhooks/<name>` and `[sources.<name>]`."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from handlers.ingest.sources.base import SourceAdapter
from handlers.ingest.sources.cloudevents import CloudEventsAdapter
from handlers.ingest.sources.hubspot import HubSpotAdapter
from handlers.ingest.sources.marketo import MarketoAdapter
from handlers.ingest.sources.mautic import MauticAdapter
from handlers.ingest.sources.salesforce import SalesforceAdapter
from handlers.ingest.sources.segment import SegmentAdapter

# Adding a tool: write its module, add one line here.
_ALL: tuple[SourceAdapter[Any], ...] = (
    MauticAdapter(),
    SegmentAdapter(),
    HubSpotAdapter(),
    MarketoAdapter(),
    CloudEventsAdapter(),
    SalesforceAdapter(),
)

ADAPTERS: Mapping[str, SourceAdapter[Any]] = MappingProxyType({a.name: a for a in _ALL})
