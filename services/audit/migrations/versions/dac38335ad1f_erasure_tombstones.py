"""erasure tombstones

Revision ID: dac38335ad1f
Revises: b3a112a20c5e
Create Date: 2026-11-26 00:01:12.432903

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = 'dac38335ad1f'
down_revision: str | Sequence[str] | None = 'b3a112a20c5e'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Tombstones of erased users (pseudonym and time only): late events about them are
    pseudonymised on arrival."""
    op.create_table('erasures',
    sa.Column('pseudonym', sa.Text(), nullable=False),
    sa.Column('erased_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('pseudonym', name=op.f('pk_erasures')),
    schema='audit'
    )
    op.create_index(op.f('ix_audit_erasures_erased_at'), 'erasures', ['erased_at'], unique=False, schema='audit')


def downgrade() -> None:
    op.drop_index(op.f('ix_audit_erasures_erased_at'), table_name='erasures', schema='audit')
    op.drop_table('erasures', schema='audit')
