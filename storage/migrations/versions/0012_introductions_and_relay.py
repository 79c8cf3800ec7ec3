"""Introductions that put people in touch: a platform identity's public handle (a Telegram
@username), the relay between the two sides of a match (its messages, and when it closed).

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-29 08:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types

revision: str = '0012'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('identity') as batch:
        batch.add_column(sa.Column('username', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
    with op.batch_alter_table('match') as batch:
        batch.add_column(sa.Column('relay_closed_at', storage.types.UTCDateTime(timezone=True), nullable=True))
    op.create_table('relaymessage',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('match_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('text', sqlmodel.sql.sqltypes.AutoString(length=3000), nullable=False),
    sa.Column('created_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['match_id'], ['match.id'], ),
    sa.ForeignKeyConstraint(['member_id'], ['member.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('relaymessage') as batch:
        batch.create_index(batch.f('ix_relaymessage_match_id'), ['match_id'], unique=False)
        batch.create_index(batch.f('ix_relaymessage_member_id'), ['member_id'], unique=False)
        batch.create_index(batch.f('ix_relaymessage_created_at'), ['created_at'], unique=False)


def downgrade() -> None:
    op.drop_table('relaymessage')
    with op.batch_alter_table('match') as batch:
        batch.drop_column('relay_closed_at')
    with op.batch_alter_table('identity') as batch:
        batch.drop_column('username')
