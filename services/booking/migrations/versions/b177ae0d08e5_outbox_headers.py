"""outbox headers (the trace context published with each event)

Revision ID: b177ae0d08e5
Revises: 729b968858cd
Create Date: 2026-11-30 08:30:00

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = 'b177ae0d08e5'
down_revision: str | Sequence[str] | None = '729b968858cd'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('outbox', sa.Column('headers', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
                  schema='booking')


def downgrade() -> None:
    op.drop_column('outbox', 'headers', schema='booking')
