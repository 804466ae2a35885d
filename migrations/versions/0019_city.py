"""city packs and imports: the pack's settings, where imported requests came from

``city_settings`` holds the one row a city pack writes (name, jurisdiction, colours,
map tiles, geocoder, hours, ...) and the fingerprint of the pack that wrote it, so
applying the same pack again changes nothing. Imported requests carry their source
and the id the old system gave them; a unique index on the pair makes a rerun or an
overlapping window unable to insert one twice. ``import_runs`` remembers how far an
import got, so a crashed import resumes where it stopped.

Revision ID: 0019
Revises: 0018
"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "city_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("applied_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_city_settings")),
    )
    op.create_table(
        "import_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("cursor", sa.String(length=200), nullable=True),
        sa.Column("imported", sa.Integer(), nullable=False),
        sa.Column("skipped", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_runs")),
        sa.UniqueConstraint("source", name=op.f("uq_import_runs_source")),
    )
    with op.batch_alter_table("service_requests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("import_source", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("remote_id", sa.String(length=120), nullable=True))
    op.create_index(
        "ix_service_requests_import_remote",
        "service_requests",
        ["import_source", "remote_id"],
        unique=True,
    )


def downgrade():
    op.drop_index("ix_service_requests_import_remote", table_name="service_requests")
    with op.batch_alter_table("service_requests", schema=None) as batch_op:
        batch_op.drop_column("remote_id")
        batch_op.drop_column("import_source")
    op.drop_table("import_runs")
    op.drop_table("city_settings")
