"""Seal the Slack installation tokens stored in plain text (Fernet, PEERLINK_SECRET_KEY).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 07:40:00
"""

from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import context, op

from storage.sealed import SealError, Sealer, seal_fields, unseal_fields

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

installations = sa.table('slackinstallation', sa.column('id', sa.Integer), sa.column('data', sa.JSON))


def _rewrite(change: Callable[[dict[str, Any], Sealer], dict[str, Any]]) -> None:
    connection = op.get_bind()
    rows = connection.execute(sa.select(installations.c.id, installations.c.data)).all()
    if not rows:
        return  # nothing stored: a database without Slack OAuth needs no key
    keys = context.config.attributes.get('secret_keys') or []
    if not keys:
        raise SealError(f'{len(rows)} Slack installation(s) hold tokens: set PEERLINK_SECRET_KEY to seal them')
    sealer = Sealer(keys)
    for row_id, data in rows:
        connection.execute(
            installations.update().where(installations.c.id == row_id).values(data=change(dict(data or {}), sealer))
        )


def upgrade() -> None:
    _rewrite(seal_fields)


def downgrade() -> None:
    _rewrite(unseal_fields)
