"""outbox headers (the trace context published with each event)

Revision ID: 4a2b80fbf7cd
Revises: 810ab51bbcf4
Create Date: 2026-11-30 08:30:00

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '4a2b80fbf7cd'
down_revision: str | Sequence[str] | None = '810ab51bbcf4'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('outbox', sa.Column('headers', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
                  schema='notify')


def downgrade() -> None:
    op.drop_column('outbox', 'headers', schema='notify')
