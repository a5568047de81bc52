"""offices.allocation, ballot_draw_days_before, ballot_draw_time (SPEC §13)

Revision ID: e7b4c1d9a620
Revises: d5e1c7a9b302
Create Date: 2026-12-07 00:00:00

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'e7b4c1d9a620'
down_revision: str | Sequence[str] | None = 'd5e1c7a9b302'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('offices', sa.Column('allocation', sa.String(length=12), nullable=False,
                                       server_default='first_come'), schema='offices')
    op.add_column('offices', sa.Column('ballot_draw_days_before', sa.Integer(), nullable=False,
                                       server_default='7'), schema='offices')
    op.add_column('offices', sa.Column('ballot_draw_time', sa.String(length=5), nullable=False,
                                       server_default='12:00'), schema='offices')


def downgrade() -> None:
    op.drop_column('offices', 'ballot_draw_time', schema='offices')
    op.drop_column('offices', 'ballot_draw_days_before', schema='offices')
    op.drop_column('offices', 'allocation', schema='offices')
