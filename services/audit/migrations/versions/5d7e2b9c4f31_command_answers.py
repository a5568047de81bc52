"""command answers (exactly-once command RPCs, obcommon.service.command)

Revision ID: 5d7e2b9c4f31
Revises: fb1a18059211
Create Date: 2026-12-02 01:30:00

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '5d7e2b9c4f31'
down_revision: str | Sequence[str] | None = 'fb1a18059211'
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
        schema='audit',
    )
    op.create_index(op.f('ix_audit_commands_created_at'), 'commands', ['created_at'], unique=False,
                    schema='audit')


def downgrade() -> None:
    op.drop_index(op.f('ix_audit_commands_created_at'), table_name='commands', schema='audit')
    op.drop_table('commands', schema='audit')
