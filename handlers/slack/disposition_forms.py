"""Each disposition's modal as a form: how it is built, and how its submission is read and checked."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from types import MappingProxyType
from typing import Any, Final

from handlers.context import HandlerConfig
from handlers.dispositions import DispositionSpec, reason_keys
from handlers.present.actions import ActionId, BlockId
from handlers.present.blocks import (
    disqualify_modal,
    lead_modal,
    parse_disqualify,
    parse_lead,
    parse_recycle,
    parse_sql,
    recycle_date_block_id,
    recycle_modal,
    sql_modal,
)
from handlers.present.catalog import Catalog
from store.models import MqlState


@dataclass(frozen=True)
class Disposition:
    """What a submitted modal asks for, already validated against the configuration."""

    state: MqlState
    reason: str | None = None
    note: str | None = None
    next_step: str | None = None
    next_step_on: date | None = None
    recycle_until: date | None = None


@dataclass(frozen=True)
class FormContext:
    """What building or reading a modal needs: the configuration, today (SLA time zone), the catalog."""

    config: HandlerConfig
    today: date
    catalog: Catalog


Errors = dict[str, str]
"""``{block_id: error}`` to show in the modal (``response_action: errors``)."""


@dataclass(frozen=True)
class Form:
    """A disposition's modal: its builder (configuration only, no database) and its reader."""

    build: Callable[[DispositionSpec, str, FormContext], dict[str, Any]]
    read: Callable[[DispositionSpec, Mapping[str, Any], FormContext], Disposition | Errors]


def _error(block: str, key: str, ctx: FormContext) -> Errors:
    """``block`` is a ``BlockId`` or a block id made from one (``str()`` gives its value)."""
    return {str(block): ctx.catalog.t(key)}


def _build_sql(spec: DispositionSpec, mql_id: str, ctx: FormContext) -> dict[str, Any]:
    return sql_modal(mql_id, ctx.catalog)


def _read_sql(
    spec: DispositionSpec, values: Mapping[str, Any], ctx: FormContext
) -> Disposition | Errors:
    try:
        sql = parse_sql(values)
    except ValueError:
        return _error(BlockId.SQL_NOTE, "modal.error.invalid", ctx)
    return Disposition(spec.state, note=sql.note)


def _build_lead(spec: DispositionSpec, mql_id: str, ctx: FormContext) -> dict[str, Any]:
    return lead_modal(mql_id, ctx.catalog, today=ctx.today)


def _read_lead(
    spec: DispositionSpec, values: Mapping[str, Any], ctx: FormContext
) -> Disposition | Errors:
    try:
        lead = parse_lead(values)
    except ValueError as exc:
        field = BlockId.LEAD_DATE if "date" in str(exc) else BlockId.LEAD_NEXT_STEP
        return _error(field, "modal.error.invalid", ctx)
    if lead.next_step_date < ctx.today:
        return _error(BlockId.LEAD_DATE, "modal.error.date_today", ctx)
    return Disposition(spec.state, next_step=lead.next_step, next_step_on=lead.next_step_date)


def _build_recycle(spec: DispositionSpec, mql_id: str, ctx: FormContext) -> dict[str, Any]:
    return recycle_modal(mql_id, ctx.config.recycle_reasons, None, ctx.today, ctx.catalog)


def _read_recycle(
    spec: DispositionSpec, values: Mapping[str, Any], ctx: FormContext
) -> Disposition | Errors:
    try:
        recycle = parse_recycle(values)
    except ValueError:
        return _error(BlockId.RECYCLE_REASON, "modal.error.invalid", ctx)
    if recycle.reason not in reason_keys(spec, ctx.config):
        return _error(BlockId.RECYCLE_REASON, "modal.error.unknown_reason", ctx)
    if recycle.return_date <= ctx.today:
        # The error goes on the date block actually shown, named after the reason shown.
        date_block = next(
            (k for k in values if k.startswith(BlockId.RECYCLE_DATE_PREFIX.value)),
            recycle_date_block_id(recycle.reason),
        )
        return _error(date_block, "modal.error.date_future", ctx)
    return Disposition(spec.state, reason=recycle.reason, recycle_until=recycle.return_date)


def _build_disqualify(spec: DispositionSpec, mql_id: str, ctx: FormContext) -> dict[str, Any]:
    return disqualify_modal(mql_id, ctx.config.disqualify_reasons, ctx.catalog)


def _read_disqualify(
    spec: DispositionSpec, values: Mapping[str, Any], ctx: FormContext
) -> Disposition | Errors:
    try:
        disqualify = parse_disqualify(values)
    except ValueError:
        return _error(BlockId.DISQUALIFY_REASON, "modal.error.invalid", ctx)
    if disqualify.reason not in reason_keys(spec, ctx.config):
        return _error(BlockId.DISQUALIFY_REASON, "modal.error.unknown_reason", ctx)
    return Disposition(spec.state, reason=disqualify.reason, note=disqualify.note)


FORMS: Final[Mapping[ActionId, Form]] = MappingProxyType(
    {
        ActionId.SQL_MODAL: Form(_build_sql, _read_sql),
        ActionId.LEAD_MODAL: Form(_build_lead, _read_lead),
        ActionId.RECYCLE_MODAL: Form(_build_recycle, _read_recycle),
        ActionId.DISQUALIFY_MODAL: Form(_build_disqualify, _read_disqualify),
    }
)
"""A disposition's modal callback id (``DispositionSpec.modal``) → its form."""
