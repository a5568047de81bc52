"""offices.check_in_deadline (SPEC §11)

Revision ID: d5e1c7a9b302
Revises: a83f5c2e9d10
Create Date: 2026-12-02 02:00:00

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'd5e1c7a9b302'
down_revision: str | Sequence[str] | None = 'a83f5c2e9d10'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('offices', sa.Column('check_in_deadline', sa.String(length=5), nullable=True), schema='offices')


def downgrade() -> None:
    op.drop_column('offices', 'check_in_deadline', schema='offices')
