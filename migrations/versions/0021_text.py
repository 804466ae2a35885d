"""text messages: the numbers that texted the city, every message, and text in the outbox

``text_numbers`` holds a number's STOP, language and conversation step; ``text_messages``
every message in and out (an inbound one once by the provider's message id, UNIQUE);
``notification_outbox.phone`` is where a text notification goes. All new (expand only):
the previous release ignores them.

Revision ID: 0021
Revises: 0020
"""

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("notification_outbox") as batch:
        batch.add_column(sa.Column("phone", sa.String(length=40), nullable=True))
    op.create_table(
        "text_numbers",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("phone", sa.String(length=40), nullable=False, unique=True),
        sa.Column("stopped", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("stopped_at", sa.DateTime(), nullable=True),
        sa.Column("locale", sa.String(length=16), nullable=True),
        sa.Column("step", sa.String(length=16), nullable=True),
        sa.Column("draft", sa.JSON(), nullable=False),
        sa.Column("last_message_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "text_messages",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("provider_sid", sa.String(length=64), nullable=True, unique=True),
        sa.Column("phone", sa.String(length=40), nullable=False),
        sa.Column("direction", sa.String(length=3), nullable=False),
        sa.Column("body", sa.Text(), nullable=False, server_default=""),
        sa.Column("media_count", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("segments", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.Column("reply", sa.Text(), nullable=True),
        sa.Column(
            "request_id",
            sa.Integer(),
            sa.ForeignKey("service_requests.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column(
            "contact_id",
            sa.Integer(),
            sa.ForeignKey("contacts.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_text_messages_phone_created", "text_messages", ["phone", "created_at"])
    op.create_index("ix_text_messages_request_id", "text_messages", ["request_id"])


def downgrade():
    op.drop_index("ix_text_messages_request_id", table_name="text_messages")
    op.drop_index("ix_text_messages_phone_created", table_name="text_messages")
    op.drop_table("text_messages")
    op.drop_table("text_numbers")
    with op.batch_alter_table("notification_outbox") as batch:
        batch.drop_column("phone")
