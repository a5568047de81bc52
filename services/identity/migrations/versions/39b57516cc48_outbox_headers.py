"""outbox headers (the trace context published with each event)

Revision ID: 39b57516cc48
Revises: d44dd4f23b3d
Create Date: 2026-11-30 08:30:00

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '39b57516cc48'
down_revision: str | Sequence[str] | None = 'd44dd4f23b3d'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('outbox', sa.Column('headers', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
                  schema='identity')


def downgrade() -> None:
    op.drop_column('outbox', 'headers', schema='identity')
