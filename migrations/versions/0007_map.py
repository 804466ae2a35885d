"""spatial indexes on request locations; daily rollups for the public figures

SQLite: an R*Tree (built into SQLite) of request points, kept in step with
``service_requests`` by triggers. PostgreSQL: GiST indexes on ``point(long, lat)``
(built in; no extension needed), one of them only over requests that are not closed,
for the nearby search. Requests without coordinates are simply not indexed.

Revision ID: 0007
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0004"
branch_labels = None
depends_on = None

SQLITE_UP = [
    """CREATE VIRTUAL TABLE service_requests_rtree USING rtree(
        id, min_lat, max_lat, min_long, max_long)""",
    """INSERT INTO service_requests_rtree (id, min_lat, max_lat, min_long, max_long)
        SELECT id, lat, lat, long, long FROM service_requests
        WHERE lat IS NOT NULL AND long IS NOT NULL""",
    """CREATE TRIGGER service_requests_rtree_insert AFTER INSERT ON service_requests
        WHEN NEW.lat IS NOT NULL AND NEW.long IS NOT NULL
        BEGIN
            INSERT INTO service_requests_rtree (id, min_lat, max_lat, min_long, max_long)
            VALUES (NEW.id, NEW.lat, NEW.lat, NEW.long, NEW.long);
        END""",
    """CREATE TRIGGER service_requests_rtree_move AFTER UPDATE OF lat, long ON service_requests
        BEGIN
            DELETE FROM service_requests_rtree WHERE id = OLD.id;
            INSERT INTO service_requests_rtree (id, min_lat, max_lat, min_long, max_long)
            SELECT NEW.id, NEW.lat, NEW.lat, NEW.long, NEW.long
            WHERE NEW.lat IS NOT NULL AND NEW.long IS NOT NULL;
        END""",
    """CREATE TRIGGER service_requests_rtree_delete AFTER DELETE ON service_requests
        BEGIN
            DELETE FROM service_requests_rtree WHERE id = OLD.id;
        END""",
]
SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS service_requests_rtree_delete",
    "DROP TRIGGER IF EXISTS service_requests_rtree_move",
    "DROP TRIGGER IF EXISTS service_requests_rtree_insert",
    "DROP TABLE IF EXISTS service_requests_rtree",
]
POSTGRES_UP = [
    "CREATE INDEX ix_service_requests_point ON service_requests USING gist (point(long, lat))",
    """CREATE INDEX ix_service_requests_open_point ON service_requests
        USING gist (point(long, lat)) WHERE detailed_status <> 'closed'""",
]
POSTGRES_DOWN = [
    "DROP INDEX IF EXISTS ix_service_requests_open_point",
    "DROP INDEX IF EXISTS ix_service_requests_point",
]


def _run(statements):
    for statement in statements:
        op.execute(statement)


def _create_rollup_tables():
    op.create_table(
        "request_rollups",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("received", sa.Integer(), nullable=False),
        sa.Column("reopened", sa.Integer(), nullable=False),
        sa.Column("closed", sa.Integer(), nullable=False),
        sa.Column("closed_with_sla", sa.Integer(), nullable=False),
        sa.Column("closed_on_time", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["service_id"], ["services.id"],
            name=op.f("fk_request_rollups_service_id_services"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("day", "service_id", "channel", name=op.f("pk_request_rollups")),
    )
    op.create_table(
        "close_duration_rollups",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("half_days", sa.Integer(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["service_id"], ["services.id"],
            name=op.f("fk_close_duration_rollups_service_id_services"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "day", "service_id", "half_days", name=op.f("pk_close_duration_rollups")
        ),
    )


def upgrade():
    _create_rollup_tables()
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        _run(SQLITE_UP)
    elif dialect == "postgresql":
        _run(POSTGRES_UP)


def downgrade():
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        _run(SQLITE_DOWN)
    elif dialect == "postgresql":
        _run(POSTGRES_DOWN)
    op.drop_table("close_duration_rollups")
    op.drop_table("request_rollups")
