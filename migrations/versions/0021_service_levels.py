"""service levels in business time: a unit and an hours target per service; a paused clock

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
    # The queue is ordered by due time by default.
    op.create_index(
        "ix_service_requests_status_expected",
        "service_requests",
        ["detailed_status", "expected_at"],
    )


def downgrade():
    op.drop_index("ix_service_requests_status_expected", table_name="service_requests")
    with op.batch_alter_table("service_requests") as batch:
        batch.drop_column("sla_paused_at")
    with op.batch_alter_table("services") as batch:
        batch.drop_column("sla_hours")
        batch.drop_column("sla_unit")
