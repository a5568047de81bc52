"""offices.version: the office's revision, so read models keep the newest copy

Revision ID: 1c6f0b2e8d47
Revises: e7b4c1d9a620
Create Date: 2026-12-07 12:40:00

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '1c6f0b2e8d47'
down_revision: str | Sequence[str] | None = 'e7b4c1d9a620'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('offices', sa.Column('version', sa.BigInteger(), nullable=False, server_default='1'),
                  schema='offices')


def downgrade() -> None:
    op.drop_column('offices', 'version', schema='offices')
