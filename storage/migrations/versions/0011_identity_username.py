"""A platform identity's public handle (a Telegram @username), shown in introductions.

Revision ID: 0011
Revises: 0008
Create Date: 2026-11-29 08:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0011'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('identity') as batch:
        batch.add_column(sa.Column('username', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('identity') as batch:
        batch.drop_column('username')
