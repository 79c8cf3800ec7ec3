"""Who belongs, through which door: members admitted (everyone already here is), Telegram groups
registered by a facilitator, invites with a use limit and revocation, and the bots' usernames that
every process may need for links.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-29 08:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('member', schema=None) as batch_op:
        # Everyone who is here already came in before doors were checked: they stay in.
        batch_op.add_column(sa.Column('admitted', sa.Boolean(), nullable=False, server_default=sa.true()))
    with op.batch_alter_table('channel', schema=None) as batch_op:
        batch_op.add_column(sa.Column('registered', sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table('invite', schema=None) as batch_op:
        batch_op.add_column(sa.Column('max_uses', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('revoked_at', storage.types.UTCDateTime(timezone=True), nullable=True))
    op.create_table(
        'botprofile',
        sa.Column('platform', sa.String(length=16), nullable=False),
        sa.Column('username', sa.String(length=64), nullable=False),
        sa.Column('updated_at', storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('platform'),
    )


def downgrade() -> None:
    op.drop_table('botprofile')
    with op.batch_alter_table('invite', schema=None) as batch_op:
        batch_op.drop_column('revoked_at')
        batch_op.drop_column('max_uses')
    with op.batch_alter_table('channel', schema=None) as batch_op:
        batch_op.drop_column('registered')
    with op.batch_alter_table('member', schema=None) as batch_op:
        batch_op.drop_column('admitted')
