"""check-in deadline and release of no-shows (SPEC §11): the offices read model keeps the
deadline and since when it applies; bookings gain released_at / released_by

Revision ID: f3a9d2c6e811
Revises: c3d15a0e7f02
Create Date: 2026-12-02 02:00:00

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'f3a9d2c6e811'
down_revision: str | Sequence[str] | None = 'c3d15a0e7f02'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('offices', sa.Column('check_in_deadline', sa.String(length=5), nullable=True), schema='booking')
    op.add_column('offices', sa.Column('deadline_since', sa.DateTime(timezone=True), nullable=True),
                  schema='booking')
    op.add_column('bookings', sa.Column('released_at', sa.DateTime(timezone=True), nullable=True), schema='booking')
    op.add_column('bookings', sa.Column('released_by', sa.String(length=254), nullable=True), schema='booking')
    # the release job's scan: active bookings of an office-day not checked in
    op.create_index('ix_bookings_due_release', 'bookings', ['office', 'date'], schema='booking',
                    postgresql_where=sa.text("status = 'active' AND checked_in_at IS NULL"))


def downgrade() -> None:
    op.drop_index('ix_bookings_due_release', table_name='bookings', schema='booking')
    op.drop_column('bookings', 'released_by', schema='booking')
    op.drop_column('bookings', 'released_at', schema='booking')
    op.drop_column('offices', 'deadline_since', schema='booking')
    op.drop_column('offices', 'check_in_deadline', schema='booking')
