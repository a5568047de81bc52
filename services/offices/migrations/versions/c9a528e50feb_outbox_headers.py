"""outbox headers (the trace context published with each event)

Revision ID: c9a528e50feb
Revises: 71009276fab2
Create Date: 2026-11-30 08:30:00

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = 'c9a528e50feb'
down_revision: str | Sequence[str] | None = '71009276fab2'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('outbox', sa.Column('headers', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
                  schema='offices')


def downgrade() -> None:
    op.drop_column('outbox', 'headers', schema='offices')
