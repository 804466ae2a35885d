"""service levels in business time: a unit and an hours target per service; a paused clock;
staff alerts (supervisors, channel, quiet hours; the due time a request was escalated for)

A service's target may now be calendar days (as before, the default for every existing
service), business days or business hours; a request remembers when its clock was
paused while the city waits on the resident.

Revision ID: 0018
Revises: 0017
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD COLUMN (nullable, or with a server default) works on SQLite too; batch mode
    # would copy service_requests, which other tables' rows refer to.
    op.add_column(
        "services",
        sa.Column("sla_unit", sa.String(length=16), nullable=False, server_default="days"),
    )
    op.add_column("services", sa.Column("sla_hours", sa.Integer(), nullable=True))
    op.add_column("service_requests", sa.Column("sla_paused_at", sa.DateTime(), nullable=True))
    op.add_column(
        "service_requests", sa.Column("overdue_alerted_for", sa.DateTime(), nullable=True)
    )
    op.add_column(
        "users", sa.Column("supervisor", sa.Boolean(), nullable=False, server_default=sa.false())
    )
    op.add_column(
        "users",
        sa.Column("alert_channel", sa.String(length=8), nullable=False, server_default="email"),
    )
    op.add_column("users", sa.Column("quiet_hours", sa.String(length=11), nullable=True))
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
    # Plain DROP COLUMN (SQLite 3.35+): batch mode would copy tables other rows refer to.
    op.drop_index("ix_service_requests_status_expected", table_name="service_requests")
    op.drop_table("staff_actions")
    for table, column in (
        ("users", "quiet_hours"),
        ("users", "alert_channel"),
        ("users", "supervisor"),
        ("service_requests", "overdue_alerted_for"),
        ("service_requests", "sla_paused_at"),
        ("services", "sla_hours"),
        ("services", "sla_unit"),
    ):
        op.drop_column(table, column)
