"""The audit log of facilitators' actions (roles, exports, introductions, links, invites, erasures).

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29 07:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('auditentry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('action', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('actor_member_id', sa.Integer(), nullable=True),
    sa.Column('subject_member_id', sa.Integer(), nullable=True),
    sa.Column('target', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('created_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['actor_member_id'], ['member.id'], ),
    sa.ForeignKeyConstraint(['community_id'], ['community.id'], ),
    sa.ForeignKeyConstraint(['subject_member_id'], ['member.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('auditentry', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_auditentry_actor_member_id'), ['actor_member_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_auditentry_community_id'), ['community_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_auditentry_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_auditentry_subject_member_id'), ['subject_member_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('auditentry', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_auditentry_subject_member_id'))
        batch_op.drop_index(batch_op.f('ix_auditentry_created_at'))
        batch_op.drop_index(batch_op.f('ix_auditentry_community_id'))
        batch_op.drop_index(batch_op.f('ix_auditentry_actor_member_id'))

    op.drop_table('auditentry')
