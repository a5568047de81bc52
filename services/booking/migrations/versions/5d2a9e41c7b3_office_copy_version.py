"""booking.offices.version: the copied office's revision (0: copied before offices had one)

Revision ID: 5d2a9e41c7b3
Revises: b8d3f6a1c274
Create Date: 2026-12-07 12:40:00

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '5d2a9e41c7b3'
down_revision: str | Sequence[str] | None = 'b8d3f6a1c274'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('offices', sa.Column('version', sa.BigInteger(), nullable=False, server_default='0'),
                  schema='booking')


def downgrade() -> None:
    op.drop_column('offices', 'version', schema='booking')
