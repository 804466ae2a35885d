"""reads flat at a city's size: map grid counts down to zoom 16; covering indexes for a busy circle and a recent window

Map grid: the cluster grids of zoom 15 and 16 join the pyramid (the finest level is now
16, cells of 360 / 2^18 degrees, about 150 m x 125 m), so a street-level view of a busy
district sums a few thousand count rows instead of grouping a third of a million
requests. Level 16 is counted from the requests (same snapping as the application),
level 15 summed from it.

PostgreSQL only: the GiST index on ``point(long, lat)`` now carries the columns a
newest-first page or a cluster needs (``INCLUDE``), so the requests in a busy circle are
found and sorted from the index alone and only the page's rows are read from the table;
and a ``received_at`` index carrying the same columns answers "the last 30 days" over
the whole city from the index alone.

Revision ID: 0023
Revises: 0022
"""

from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None

OLD_FINEST = 14
NEW_FINEST = 16
FINEST_CELL = 360.0 / 2 ** (NEW_FINEST + 2)
CARRIED = "received_at, id, lat, long, service_id, status, detailed_status"


def upgrade():
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        cell_x = f"CAST(floor((long + 180.0::float8) / {FINEST_CELL!r}::float8) AS INTEGER)"
        cell_y = f"CAST(floor((lat + 90.0::float8) / {FINEST_CELL!r}::float8) AS INTEGER)"
    else:
        cell_x = f"CAST((long + 180.0) / {FINEST_CELL!r} AS INTEGER)"
        cell_y = f"CAST((lat + 90.0) / {FINEST_CELL!r} AS INTEGER)"
    op.execute(
        f"""INSERT INTO map_cell_rollups (level, cell_x, cell_y, service_id, status,
                detailed_status, count, sum_lat, sum_long, sum_id)
            SELECT {NEW_FINEST}, {cell_x}, {cell_y}, service_id, status, detailed_status,
                count(*), sum(lat), sum(long), sum(id)
            FROM service_requests
            WHERE lat IS NOT NULL AND long IS NOT NULL AND service_id IS NOT NULL
            GROUP BY 2, 3, service_id, status, detailed_status"""  # noqa: S608 (constants)
    )
    for level in range(OLD_FINEST + 1, NEW_FINEST):
        shift = NEW_FINEST - level
        op.execute(
            f"""INSERT INTO map_cell_rollups (level, cell_x, cell_y, service_id, status,
                    detailed_status, count, sum_lat, sum_long, sum_id)
                SELECT {level}, cell_x >> {shift}, cell_y >> {shift}, service_id, status,
                    detailed_status, sum(count), sum(sum_lat), sum(sum_long), sum(sum_id)
                FROM map_cell_rollups WHERE level = {NEW_FINEST}
                GROUP BY 2, 3, service_id, status, detailed_status"""  # noqa: S608
        )
    if dialect == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_service_requests_point")
        op.execute(
            "CREATE INDEX ix_service_requests_point ON service_requests "
            f"USING gist (point(long, lat)) INCLUDE ({CARRIED})"
        )
        op.execute(
            "CREATE INDEX ix_service_requests_received_carrying ON service_requests "
            "(received_at) INCLUDE (id, lat, long, service_id, status, detailed_status)"
        )


def downgrade():
    op.execute(f"DELETE FROM map_cell_rollups WHERE level > {OLD_FINEST}")  # noqa: S608
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_service_requests_received_carrying")
        op.execute("DROP INDEX IF EXISTS ix_service_requests_point")
        op.execute(
            "CREATE INDEX ix_service_requests_point ON service_requests "
            "USING gist (point(long, lat))"
        )
