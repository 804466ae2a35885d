"""service levels in business time: a unit and an hours target per service; a paused clock;
staff alerts (supervisors, channel, quiet hours; the due time a request was escalated for)

A service's target may now be calendar days (as before, the default for every existing
service), business days or business hours; a request remembers when its clock was
paused while the city waits on the resident.

Revision ID: 0021
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("services") as batch:
        batch.add_column(
            sa.Column("sla_unit", sa.String(length=16), nullable=False, server_default="days")
        )
        batch.add_column(sa.Column("sla_hours", sa.Integer(), nullable=True))
    with op.batch_alter_table("service_requests") as batch:
        batch.add_column(sa.Column("sla_paused_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("overdue_alerted_for", sa.DateTime(), nullable=True))
    with op.batch_alter_table("users") as batch:
        batch.add_column(
            sa.Column("supervisor", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(
            sa.Column("alert_channel", sa.String(length=8), nullable=False, server_default="email")
        )
        batch.add_column(sa.Column("quiet_hours", sa.String(length=11), nullable=True))
    op.create_table(
        "staff_actions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("outcome", sa.String(length=10), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("event_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_staff_actions_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["request_id"], ["service_requests.id"],
            name=op.f("fk_staff_actions_request_id_service_requests"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["event_id"], ["request_events.id"],
            name=op.f("fk_staff_actions_event_id_request_events"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_actions")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_staff_actions_idempotency_key")),
    )
    op.create_index(op.f("ix_staff_actions_user_id"), "staff_actions", ["user_id"])
    op.create_index(op.f("ix_staff_actions_request_id"), "staff_actions", ["request_id"])
    # The queue is ordered by due time by default.
    op.create_index(
        "ix_service_requests_status_expected",
        "service_requests",
        ["detailed_status", "expected_at"],
    )


def downgrade():
    op.drop_table("staff_actions")
    op.drop_index("ix_service_requests_status_expected", table_name="service_requests")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("quiet_hours")
        batch.drop_column("alert_channel")
        batch.drop_column("supervisor")
    with op.batch_alter_table("service_requests") as batch:
        batch.drop_column("overdue_alerted_for")
        batch.drop_column("sla_paused_at")
    with op.batch_alter_table("services") as batch:
        batch.drop_column("sla_hours")
        batch.drop_column("sla_unit")
