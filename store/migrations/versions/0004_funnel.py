"""funnel: opportunities, outcome events, MQL qualified time and bad-MQL flag

Revision ID: 0004_funnel
Revises: 0003_import_checkpoint
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import store.types

revision: str = '0004_funnel'
down_revision: str | None = '0003_import_checkpoint'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('outcome_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('dedupe_key', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('opportunity_id', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('lead_id', sa.Integer(), nullable=False),
    sa.Column('type', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('occurred_at', store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('received_at', store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.Column('amount', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
    sa.Column('currency', sqlmodel.sql.sqltypes.AutoString(length=3), nullable=True),
    sa.Column('stage', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
    sa.Column('lost_reason', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('created_at', store.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['lead_id'], ['lead.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('dedupe_key')
    )
    with op.batch_alter_table('outcome_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outcome_event_opportunity_id'), ['opportunity_id'], unique=False)

    op.create_table('opportunity',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('external_id', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('lead_id', sa.Integer(), nullable=False),
    sa.Column('mql_id', sa.Integer(), nullable=True),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('stage', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
    sa.Column('amount', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
    sa.Column('amount_minor', sa.BigInteger(), nullable=True),
    sa.Column('currency', sqlmodel.sql.sqltypes.AutoString(length=3), nullable=True),
    sa.Column('lost_reason', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('opened_at', store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('won_at', store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('lost_at', store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_event_at', store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', store.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['lead_id'], ['lead.id'], ),
    sa.ForeignKeyConstraint(['mql_id'], ['mql.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('external_id')
    )
    with op.batch_alter_table('opportunity', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_opportunity_lead_id'), ['lead_id'], unique=False)
        batch_op.create_index('ix_opportunity_mql', ['mql_id'], unique=False)
        batch_op.create_index('ix_opportunity_opened', ['opened_at'], unique=False)

    with op.batch_alter_table('mql', schema=None) as batch_op:
        batch_op.add_column(sa.Column('qualified_at', store.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('bad_reason', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True))
        batch_op.add_column(sa.Column('bad_by', sqlmodel.sql.sqltypes.AutoString(length=50), nullable=True))
        batch_op.add_column(sa.Column('bad_at', store.types.UTCDateTime(timezone=True), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('mql', schema=None) as batch_op:
        batch_op.drop_column('bad_at')
        batch_op.drop_column('bad_by')
        batch_op.drop_column('bad_reason')
        batch_op.drop_column('qualified_at')

    with op.batch_alter_table('opportunity', schema=None) as batch_op:
        batch_op.drop_index('ix_opportunity_opened')
        batch_op.drop_index('ix_opportunity_mql')
        batch_op.drop_index(batch_op.f('ix_opportunity_lead_id'))

    op.drop_table('opportunity')
    with op.batch_alter_table('outcome_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outcome_event_opportunity_id'))

    op.drop_table('outcome_event')
