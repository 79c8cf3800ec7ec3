"""The inbox: every incoming platform event is stored before it is acknowledged and processed from
there (retried with backoff); it replaces the list of seen Slack events, which it also deduplicates.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-29 10:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types

revision: str = '0013'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('inboxevent',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('platform', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('claimed_until', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_error', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.Column('received_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('key')
    )
    with op.batch_alter_table('inboxevent') as batch:
        batch.create_index(batch.f('ix_inboxevent_status'), ['status'], unique=False)
        batch.create_index(batch.f('ix_inboxevent_received_at'), ['received_at'], unique=False)
    # The inbox deduplicates what this table did (a few days of Slack event ids, nothing else).
    with op.batch_alter_table('seenevent') as batch:
        batch.drop_index(batch.f('ix_seenevent_created_at'))
    op.drop_table('seenevent')


def downgrade() -> None:
    op.create_table('seenevent',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('created_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('key')
    )
    with op.batch_alter_table('seenevent') as batch:
        batch.create_index(batch.f('ix_seenevent_created_at'), ['created_at'], unique=False)
    op.drop_table('inboxevent')
