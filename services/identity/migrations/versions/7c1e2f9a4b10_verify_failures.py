"""verify failures (wrong sign-in codes counted per address and client across codes)

Revision ID: 7c1e2f9a4b10
Revises: 39b57516cc48
Create Date: 2026-12-02 01:00:00

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '7c1e2f9a4b10'
down_revision: str | Sequence[str] | None = '39b57516cc48'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('verify_failures',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('key', sa.String(length=300), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_verify_failures')),
    schema='identity'
    )
    op.create_index('ix_verify_failures_key_at', 'verify_failures', ['key', 'at'], unique=False, schema='identity')


def downgrade() -> None:
    op.drop_index('ix_verify_failures_key_at', table_name='verify_failures', schema='identity')
    op.drop_table('verify_failures', schema='identity')
