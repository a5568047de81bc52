"""day overrides and closures (SPEC §15)

Revision ID: c3d15a0e7f02
Revises: e41c0a7d5b21
Create Date: 2026-12-02 01:50:00

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'c3d15a0e7f02'
down_revision: str | Sequence[str] | None = 'e41c0a7d5b21'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'day_overrides',
        sa.Column('office', sa.String(length=64), nullable=False),
        sa.Column('date', sa.Date(), nullable=False),
        sa.Column('quota', sa.Integer(), nullable=True),
        sa.Column('parking_quota', sa.Integer(), nullable=True),
        sa.Column('closed', sa.Boolean(), nullable=False),
        sa.Column('note', sa.String(length=500), nullable=True),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_by', sa.String(length=254), nullable=False),
        sa.PrimaryKeyConstraint('office', 'date', name=op.f('pk_day_overrides')),
        schema='booking',
    )


def downgrade() -> None:
    op.drop_table('day_overrides', schema='booking')
