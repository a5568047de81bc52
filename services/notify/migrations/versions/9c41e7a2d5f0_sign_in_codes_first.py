"""the sender's index: sign-in codes first, then by when they are due (issue 16)

Revision ID: 9c41e7a2d5f0
Revises: 4a2b80fbf7cd
Create Date: 2026-12-07 22:30:00

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '9c41e7a2d5f0'
down_revision: str | Sequence[str] | None = '4a2b80fbf7cd'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LOGIN_FIRST = "(CASE WHEN kind = 'login_code' THEN 0 ELSE 1 END)"


def upgrade() -> None:
    op.drop_index('ix_mail_due', table_name='mail', schema='notify', postgresql_where=sa.text('sent_at IS NULL'))
    op.create_index('ix_mail_due', 'mail', [sa.text(LOGIN_FIRST), 'next_attempt_at', 'id'], unique=False,
                    schema='notify', postgresql_where=sa.text('sent_at IS NULL'))


def downgrade() -> None:
    op.drop_index('ix_mail_due', table_name='mail', schema='notify', postgresql_where=sa.text('sent_at IS NULL'))
    op.create_index('ix_mail_due', 'mail', ['next_attempt_at'], unique=False, schema='notify',
                    postgresql_where=sa.text('sent_at IS NULL'))
