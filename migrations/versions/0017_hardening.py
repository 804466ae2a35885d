"""an index for counting the mail queued to one address lately

The per-recipient cap on mail anyone can set off counts the outbox rows queued to an
address in the last hour and day; this index keeps that a short range scan.

Revision ID: 0017
Revises: 0016
"""

from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("notification_outbox") as batch:
        batch.create_index("ix_notification_outbox_created_at", ["created_at"])


def downgrade():
    with op.batch_alter_table("notification_outbox") as batch:
        batch.drop_index("ix_notification_outbox_created_at")
