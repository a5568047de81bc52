"""waitlist (SPEC §12) and ballot (SPEC §13): the offices read model's allocation fields, the
waitlist and the drawn days; a requested booking holds its user's day like an active one

Revision ID: a5c8e2f0b913
Revises: f3a9d2c6e811
Create Date: 2026-12-07 00:00:00

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'a5c8e2f0b913'
down_revision: str | Sequence[str] | None = 'f3a9d2c6e811'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('offices', sa.Column('allocation', sa.String(length=12), nullable=False,
                                       server_default='first_come'), schema='booking')
    op.add_column('offices', sa.Column('ballot_draw_days_before', sa.Integer(), nullable=False,
                                       server_default='7'), schema='booking')
    op.add_column('offices', sa.Column('ballot_draw_time', sa.String(length=5), nullable=False,
                                       server_default='12:00'), schema='booking')
    op.create_index('uq_bookings_held_user_office_date', 'bookings', ['user', 'office', 'date'], unique=True,
                    schema='booking', postgresql_where=sa.text("status IN ('active', 'requested')"))
    op.drop_index('uq_bookings_active_user_office_date', table_name='bookings', schema='booking')
    op.create_index('ix_bookings_requested', 'bookings', ['office', 'date'], schema='booking',
                    postgresql_where=sa.text("status = 'requested'"))
    op.create_table(
        'waitlist',
        sa.Column('id', sa.String(length=32), primary_key=True),
        sa.Column('seq', sa.BigInteger(), sa.Identity(always=False), nullable=False, unique=True),
        sa.Column('user', sa.String(length=254), nullable=False),
        sa.Column('office', sa.String(length=64), nullable=False),
        sa.Column('date', sa.Date(), nullable=False),
        sa.Column('parking', sa.Boolean(), nullable=False),
        sa.Column('reason', sa.String(length=2000), nullable=True),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('created_by', sa.String(length=254), nullable=False),
        sa.Column('request_id', sa.String(length=32), nullable=True),
        sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('booking_id', sa.String(length=32), nullable=True),
        schema='booking',
    )
    op.create_index('ix_waitlist_waiting', 'waitlist', ['office', 'date', 'seq'], schema='booking',
                    postgresql_where=sa.text("status = 'waiting'"))
    op.create_index('ix_waitlist_user', 'waitlist', ['user', 'date'], schema='booking')
    op.create_index('uq_waitlist_waiting_user_office_date', 'waitlist', ['user', 'office', 'date'], unique=True,
                    schema='booking', postgresql_where=sa.text("status = 'waiting'"))
    op.create_table(
        'ballot_draws',
        sa.Column('office', sa.String(length=64), primary_key=True),
        sa.Column('date', sa.Date(), primary_key=True),
        sa.Column('seed', sa.String(length=64), nullable=False),
        sa.Column('drawn_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('requests', sa.Integer(), nullable=False),
        sa.Column('winners', sa.Integer(), nullable=False),
        schema='booking',
    )


def downgrade() -> None:
    op.drop_table('ballot_draws', schema='booking')
    op.drop_table('waitlist', schema='booking')
    op.drop_index('ix_bookings_requested', table_name='bookings', schema='booking')
    op.create_index('uq_bookings_active_user_office_date', 'bookings', ['user', 'office', 'date'], unique=True,
                    schema='booking', postgresql_where=sa.text("status = 'active'"))
    op.drop_index('uq_bookings_held_user_office_date', table_name='bookings', schema='booking')
    op.drop_column('offices', 'ballot_draw_time', schema='booking')
    op.drop_column('offices', 'ballot_draw_days_before', schema='booking')
    op.drop_column('offices', 'allocation', schema='booking')
