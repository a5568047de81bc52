"""command answers (exactly-once command RPCs, obcommon.service.command)

Revision ID: 3b9d6f1a2c47
Revises: 7c1e2f9a4b10
Create Date: 2026-12-02 01:30:00

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '3b9d6f1a2c47'
down_revision: str | Sequence[str] | None = '7c1e2f9a4b10'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'commands',
        sa.Column('call_id', sa.String(length=100), nullable=False),
        sa.Column('method', sa.String(length=100), nullable=False),
        sa.Column('outcome', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('call_id', name=op.f('pk_commands')),
        schema='identity',
    )
    op.create_index(op.f('ix_identity_commands_created_at'), 'commands', ['created_at'], unique=False,
                    schema='identity')


def downgrade() -> None:
    op.drop_index(op.f('ix_identity_commands_created_at'), table_name='commands', schema='identity')
    op.drop_table('commands', schema='identity')
