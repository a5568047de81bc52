"""regular office days and calendars (SPEC §14): recurring patterns, their occurrences and daily
refusal summaries, calendar feeds; bookings gain their calendar SEQUENCE and last change

Revision ID: b8d3f6a1c274
Revises: a5c8e2f0b913
Create Date: 2026-12-07 01:00:00

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'b8d3f6a1c274'
down_revision: str | Sequence[str] | None = 'a5c8e2f0b913'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('bookings', sa.Column('sequence', sa.Integer(), nullable=False, server_default='0'),
                  schema='booking')
    op.add_column('bookings', sa.Column('changed_at', sa.DateTime(timezone=True), nullable=True), schema='booking')
    op.create_table(
        'recurring_patterns',
        sa.Column('id', sa.String(length=32), primary_key=True),
        sa.Column('user', sa.String(length=254), nullable=False),
        sa.Column('office', sa.String(length=64), nullable=False),
        sa.Column('weekdays', sa.String(length=20), nullable=False),
        sa.Column('parking', sa.Boolean(), nullable=False),
        sa.Column('until', sa.Date(), nullable=True),
        sa.Column('reason', sa.String(length=2000), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('created_by', sa.String(length=254), nullable=False),
        sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
        schema='booking',
    )
    op.create_index('ix_booking_recurring_patterns_user', 'recurring_patterns', ['user'], schema='booking')
    op.create_table(
        'occurrences',
        sa.Column('pattern_id', sa.String(length=32), primary_key=True),
        sa.Column('date', sa.Date(), primary_key=True),
        sa.Column('user', sa.String(length=254), nullable=False),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('code', sa.String(length=40), nullable=True),
        sa.Column('message', sa.String(length=200), nullable=True),
        sa.Column('booking_id', sa.String(length=32), nullable=True),
        sa.Column('decided_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('summarised_at', sa.DateTime(timezone=True), nullable=True),
        schema='booking',
    )
    op.create_index('ix_booking_occurrences_user', 'occurrences', ['user'], schema='booking')
    op.create_table(
        'refusal_summaries',
        sa.Column('user', sa.String(length=254), primary_key=True),
        sa.Column('day', sa.Date(), primary_key=True),
        schema='booking',
    )
    op.create_table(
        'calendar_feeds',
        sa.Column('user', sa.String(length=254), primary_key=True),
        sa.Column('token_hash', sa.String(length=64), nullable=False, unique=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        schema='booking',
    )


def downgrade() -> None:
    op.drop_table('calendar_feeds', schema='booking')
    op.drop_table('refusal_summaries', schema='booking')
    op.drop_index('ix_booking_occurrences_user', table_name='occurrences', schema='booking')
    op.drop_table('occurrences', schema='booking')
    op.drop_index('ix_booking_recurring_patterns_user', table_name='recurring_patterns', schema='booking')
    op.drop_table('recurring_patterns', schema='booking')
    op.drop_column('bookings', 'changed_at', schema='booking')
    op.drop_column('bookings', 'sequence', schema='booking')
