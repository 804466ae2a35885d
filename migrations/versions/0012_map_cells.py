"""map grid counts: requests per fine grid cell, service and status, for city-wide clusters

One level per cluster zoom from 8 to 14. The finest level is filled from the existing
requests in one GROUP BY, with the same snapping the application uses (cells of the
zoom-14 cluster grid, 360 / 2^16 degrees; longitude shifted by 180 and latitude by 90
so indices are never negative); each coarser level sums the finest, its cell indices
shifted right (cells halve per zoom level from the same corner).

Revision ID: 0012
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

GRID_ZOOM = 14
MIN_LEVEL = 8
GRID_CELL = 360.0 / 2**16


def upgrade():
    op.create_table(
        "map_cell_rollups",
        sa.Column("level", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("cell_x", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("cell_y", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("detailed_status", sa.String(length=16), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("sum_lat", sa.Float(), nullable=False),
        sa.Column("sum_long", sa.Float(), nullable=False),
        sa.Column("sum_id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["service_id"], ["services.id"],
            name=op.f("fk_map_cell_rollups_service_id_services"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "level", "cell_x", "cell_y", "service_id", "status", "detailed_status",
            name=op.f("pk_map_cell_rollups"),
        ),
    )
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        cell_x = f"CAST(floor((long + 180.0::float8) / {GRID_CELL!r}::float8) AS INTEGER)"
        cell_y = f"CAST(floor((lat + 90.0::float8) / {GRID_CELL!r}::float8) AS INTEGER)"
    else:
        cell_x = f"CAST((long + 180.0) / {GRID_CELL!r} AS INTEGER)"
        cell_y = f"CAST((lat + 90.0) / {GRID_CELL!r} AS INTEGER)"
    op.execute(
        f"""INSERT INTO map_cell_rollups (level, cell_x, cell_y, service_id, status,
                detailed_status, count, sum_lat, sum_long, sum_id)
            SELECT {GRID_ZOOM}, {cell_x}, {cell_y}, service_id, status, detailed_status,
                count(*), sum(lat), sum(long), sum(id)
            FROM service_requests
            WHERE lat IS NOT NULL AND long IS NOT NULL AND service_id IS NOT NULL
            GROUP BY 2, 3, service_id, status, detailed_status"""  # noqa: S608 (constants)
    )
    for level in range(MIN_LEVEL, GRID_ZOOM):
        shift = GRID_ZOOM - level
        op.execute(
            f"""INSERT INTO map_cell_rollups (level, cell_x, cell_y, service_id, status,
                    detailed_status, count, sum_lat, sum_long, sum_id)
                SELECT {level}, cell_x >> {shift}, cell_y >> {shift}, service_id, status,
                    detailed_status, sum(count), sum(sum_lat), sum(sum_long), sum(sum_id)
                FROM map_cell_rollups WHERE level = {GRID_ZOOM}
                GROUP BY 2, 3, service_id, status, detailed_status"""  # noqa: S608
        )


def downgrade():
    op.drop_table("map_cell_rollups")
