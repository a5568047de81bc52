"""outbox headers (the trace context published with each event)

Revision ID: fb1a18059211
Revises: dac38335ad1f
Create Date: 2026-11-30 08:30:00

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = 'fb1a18059211'
down_revision: str | Sequence[str] | None = 'dac38335ad1f'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('outbox', sa.Column('headers', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
                  schema='audit')


def downgrade() -> None:
    op.drop_column('outbox', 'headers', schema='audit')
