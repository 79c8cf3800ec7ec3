"""Organisations compared by key (normal form + confusables skeleton) and pending members; duplicates
with the same normal form (case, spacing, zero-width and bidi characters, NFKC) are merged here.
Look-alike duplicates (a Cyrillic letter) are left to `peerlink orgs merge`: the kernel gives the
oldest of them the key on first use (`bot.organisations`).

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-29 08:45:00
"""

import unicodedata
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types

revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, column, owner column): rows unique per owner and organisation, merged not moved
_UNIQUE = (('organisationblock', 'blocked_organisation_id', 'member_id'), ('workinggroupmember', 'organisation_id', 'group_id'))
_PLAIN = (('post', 'organisation_id'), ('member', 'organisation_id'), ('invite', 'organisation_id'))


def upgrade() -> None:
    # Plain ADD COLUMN and a unique index: SQLite alters in place, no table copied (others refer to these).
    op.add_column('organisation', sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=600), nullable=True))
    op.add_column('member', sa.Column('organisation_pending', sa.Boolean(), nullable=False, server_default=sa.false()))
    op.add_column('member', sa.Column('contact_kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True))
    op.add_column('member', sa.Column('contact_value', sqlmodel.sql.sqltypes.AutoString(length=254), nullable=True))
    op.add_column('member', sa.Column('contact_platform', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True))
    op.create_table('linkcode',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('expires_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['member.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('code')
    )
    with op.batch_alter_table('linkcode', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_linkcode_member_id'), ['member_id'], unique=False)
    op.create_table('memberlink',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('identity_id', sa.Integer(), nullable=False),
    sa.Column('posts', sa.JSON(), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('created_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['identity_id'], ['identity.id'], ),
    sa.ForeignKeyConstraint(['member_id'], ['member.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('identity_id')
    )
    with op.batch_alter_table('memberlink', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_memberlink_member_id'), ['member_id'], unique=False)
    _merge_duplicates(op.get_bind())
    op.create_index('ix_organisation_community_key', 'organisation', ['community_id', 'key'], unique=True)


def _merge_duplicates(connection: sa.Connection) -> None:
    """The oldest of each (community, normal form) keeps the others' rows; keys are the kernel's to give."""
    rows = connection.execute(sa.text('SELECT id, community_id, name FROM organisation ORDER BY id')).all()
    kept: dict[tuple[int, str], int] = {}
    for organisation_id, community_id, name in rows:
        found = _normal_form(name)
        keeper = kept.setdefault((community_id, found), organisation_id)
        if keeper == organisation_id:
            continue
        for table, column in _PLAIN:
            connection.execute(sa.text(f'UPDATE {table} SET {column} = :keep WHERE {column} = :gone'),
                               {'keep': keeper, 'gone': organisation_id})
        for table, column, owner in _UNIQUE:
            connection.execute(
                sa.text(f'DELETE FROM {table} WHERE {column} = :gone AND {owner} IN '
                        f'(SELECT {owner} FROM {table} WHERE {column} = :keep)'),
                {'keep': keeper, 'gone': organisation_id},
            )
            connection.execute(sa.text(f'UPDATE {table} SET {column} = :keep WHERE {column} = :gone'),
                               {'keep': keeper, 'gone': organisation_id})
        connection.execute(sa.text('DELETE FROM organisation WHERE id = :i'), {'i': organisation_id})


def _normal_form(name: str) -> str:
    """A frozen copy of the rule's first half as of this revision (a migration must not change
    with the code that comes after it)."""
    text = unicodedata.normalize('NFKC', name).casefold()
    return ' '.join(''.join(ch for ch in text if unicodedata.category(ch) != 'Cf').split())


def downgrade() -> None:
    op.drop_table('memberlink')
    op.drop_table('linkcode')
    op.drop_index('ix_organisation_community_key', table_name='organisation')
    with op.batch_alter_table('organisation', schema=None) as batch_op:
        batch_op.drop_column('key')
    with op.batch_alter_table('member', schema=None) as batch_op:
        batch_op.drop_column('contact_platform')
        batch_op.drop_column('contact_value')
        batch_op.drop_column('contact_kind')
        batch_op.drop_column('organisation_pending')
