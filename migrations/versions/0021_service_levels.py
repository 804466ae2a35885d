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
    # The queue is ordered by due time by default.
    op.create_index(
        "ix_service_requests_status_expected",
        "service_requests",
        ["detailed_status", "expected_at"],
    )


def downgrade():
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
