"""notification outbox: who holds a message being sent, and an e-mail's fixed Message-ID

``claim_token`` names the worker that claimed a ``sending`` row (its lease is
``next_attempt_at``, renewed by the worker's heartbeat), so only that worker records
the outcome. ``message_id`` is an e-mail's Message-ID, chosen before its first send,
so a resend after a crash carries the same one. Both are new nullable columns: the
previous release ignores them (expand only).

Revision ID: 0020
Revises: 0019
"""

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("notification_outbox") as batch:
        batch.add_column(sa.Column("claim_token", sa.String(length=40), nullable=True))
        batch.add_column(sa.Column("message_id", sa.String(length=255), nullable=True))


def downgrade():
    with op.batch_alter_table("notification_outbox") as batch:
        batch.drop_column("message_id")
        batch.drop_column("claim_token")
