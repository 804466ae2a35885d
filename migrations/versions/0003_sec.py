"""revocable sessions: a per-user session version

Revision ID: 0003
Revises: 0001
Create Date: 2026-11-29 22:00:00

Every session carries the version its user had when it was made; signing out or
changing the password raises the version, so copies of older sessions stop working.
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('session_version', sa.Integer(), nullable=False, server_default='0')
        )


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('session_version')
