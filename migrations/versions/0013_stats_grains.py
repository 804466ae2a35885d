"""month and ISO-week rollups for /stats, summed from the daily rollups

/stats shows this month, the last 12 months and 53 weeks; reading daily rows (and a
daily close-time histogram) made its cost grow with the city's history. These tables
hold the same counts per month (named by its 1st) and per ISO week (named by its
Monday, all channels together), and the close-time histogram per month and per week.
They are filled here by summing the daily rollups, which hold exactly the same counts
per city day; from then on the application keeps every grain in the same flush.

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

COUNTS = ("received", "reopened", "closed", "closed_with_sla", "closed_on_time")


def _service_fk(table):
    return sa.ForeignKeyConstraint(
        ["service_id"], ["services.id"],
        name=op.f(f"fk_{table}_service_id_services"), ondelete="CASCADE",
    )


def _counts_table(table, period, with_channel):
    keys = [period, "service_id"] + (["channel"] if with_channel else [])
    op.create_table(
        table,
        sa.Column(period, sa.Date(), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=False),
        *([sa.Column("channel", sa.String(length=10), nullable=False)] if with_channel else []),
        *[sa.Column(name, sa.Integer(), nullable=False) for name in COUNTS],
        _service_fk(table),
        sa.PrimaryKeyConstraint(*keys, name=op.f(f"pk_{table}")),
    )


def _histogram_table(table, period):
    op.create_table(
        table,
        sa.Column(period, sa.Date(), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("half_days", sa.Integer(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        _service_fk(table),
        sa.PrimaryKeyConstraint(period, "service_id", "half_days", name=op.f(f"pk_{table}")),
    )


def _periods(dialect):
    """SQL naming the month (its 1st) and the ISO week (its Monday) of ``day``."""
    if dialect == "postgresql":
        return ("CAST(date_trunc('month', day) AS DATE)",
                "CAST(date_trunc('week', day) AS DATE)")
    # SQLite: 'weekday 0' moves to the coming Sunday (or stays), six days back is Monday.
    return "date(day, 'start of month')", "date(day, 'weekday 0', '-6 days')"


def upgrade():
    _counts_table("request_month_rollups", "month", with_channel=True)
    _counts_table("request_week_rollups", "week", with_channel=False)
    _histogram_table("close_duration_month_rollups", "month")
    _histogram_table("close_duration_week_rollups", "week")
    month, week = _periods(op.get_bind().dialect.name)
    sums = ", ".join(f"sum({name})" for name in COUNTS)
    names = ", ".join(COUNTS)
    op.execute(
        f"""INSERT INTO request_month_rollups (month, service_id, channel, {names})
            SELECT {month}, service_id, channel, {sums} FROM request_rollups
            GROUP BY 1, service_id, channel"""  # noqa: S608 (constants)
    )
    op.execute(
        f"""INSERT INTO request_week_rollups (week, service_id, {names})
            SELECT {week}, service_id, {sums} FROM request_rollups
            GROUP BY 1, service_id"""  # noqa: S608
    )
    for table, period, expression in (
        ("close_duration_month_rollups", "month", month),
        ("close_duration_week_rollups", "week", week),
    ):
        op.execute(
            f"""INSERT INTO {table} ({period}, service_id, half_days, count)
                SELECT {expression}, service_id, half_days, sum(count)
                FROM close_duration_rollups GROUP BY 1, service_id, half_days"""  # noqa: S608
        )


def downgrade():
    op.drop_table("close_duration_week_rollups")
    op.drop_table("close_duration_month_rollups")
    op.drop_table("request_week_rollups")
    op.drop_table("request_month_rollups")
