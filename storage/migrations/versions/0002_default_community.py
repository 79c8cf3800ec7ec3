"""A fresh database has one default community, so a single partnership needs no setup.

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DEFAULT_COMMUNITY = "Peerlink"


def upgrade() -> None:
    community = sa.table(
        "community",
        sa.column("name", sa.String),
        sa.column("language", sa.String),
        sa.column("timezone", sa.String),
        sa.column("digest_weekday", sa.Integer),
        sa.column("digest_time", sa.String),
        sa.column("created_at", sa.DateTime(timezone=True)),
    )
    op.bulk_insert(
        community,
        [
            {
                "name": DEFAULT_COMMUNITY,
                "language": "en",
                "timezone": "UTC",
                "digest_weekday": 0,
                "digest_time": "09:00",
                "created_at": datetime.now(UTC),
            }
        ],
    )


def downgrade() -> None:
    op.execute(sa.text("DELETE FROM community WHERE name = :name").bindparams(name=DEFAULT_COMMUNITY))
