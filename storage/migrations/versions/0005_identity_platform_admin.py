"""Remember what each platform last said about a person's admin rights, so notices to facilitators
reach platform admins (who facilitate by default) as well.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 07:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('identity', schema=None) as batch_op:
        batch_op.add_column(sa.Column('platform_admin', sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table('identity', schema=None) as batch_op:
        batch_op.drop_column('platform_admin')
