"""accounts provisioned and disabled by the company's identity provider (SPEC §16): users gain
active / disabled_at, a stable SCIM id, externalId, displayName, updated_at

Revision ID: 9e4a7b2c5d18
Revises: 3b9d6f1a2c47
Create Date: 2026-12-07 01:00:00

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '9e4a7b2c5d18'
down_revision: str | Sequence[str] | None = '3b9d6f1a2c47'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('users', sa.Column('active', sa.Boolean(), nullable=False, server_default=sa.true()),
                  schema='identity')
    op.add_column('users', sa.Column('disabled_at', sa.DateTime(timezone=True), nullable=True), schema='identity')
    op.add_column('users', sa.Column('scim_id', sa.String(length=32), nullable=True), schema='identity')
    op.execute("UPDATE identity.users SET scim_id = md5(random()::text || email)")
    op.alter_column('users', 'scim_id', nullable=False, schema='identity')
    op.create_index('uq_users_scim_id', 'users', ['scim_id'], unique=True, schema='identity')
    op.add_column('users', sa.Column('external_id', sa.String(length=254), nullable=True), schema='identity')
    op.add_column('users', sa.Column('display_name', sa.String(length=254), nullable=True), schema='identity')
    op.add_column('users', sa.Column('updated_at', sa.DateTime(timezone=True), nullable=True), schema='identity')
    op.add_column('users', sa.Column('scim_resource', postgresql.JSONB(), nullable=True), schema='identity')


def downgrade() -> None:
    op.drop_column('users', 'scim_resource', schema='identity')
    op.drop_column('users', 'updated_at', schema='identity')
    op.drop_column('users', 'display_name', schema='identity')
    op.drop_column('users', 'external_id', schema='identity')
    op.drop_index('uq_users_scim_id', table_name='users', schema='identity')
    op.drop_column('users', 'scim_id', schema='identity')
    op.drop_column('users', 'disabled_at', schema='identity')
    op.drop_column('users', 'active', schema='identity')
