"""worker heartbeats, and the web request that queued each message

Two additions, both "expand" steps (see docs/upgrades.md): nothing the previous
release reads or writes changes.

- ``worker_heartbeats``: one row per worker loop and machine, stamped after every
  round, so monitoring can see a notification or forwarding worker that went silent.
- ``http_request_id`` on ``notification_outbox`` and ``forwardings``: the id of the
  web request whose change queued the message (its ``X-Request-ID``), so a delivery's
  log line and the forwarded Open311 call can be traced back to the request. Nullable:
  rows written by the previous release, or by a worker, simply carry none.

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

TRACED = ("notification_outbox", "forwardings")


def upgrade():
    op.create_table(
        "worker_heartbeats",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("worker", sa.String(length=40), nullable=False),
        sa.Column("host", sa.String(length=120), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("beat_at", sa.DateTime(), nullable=False),
        sa.Column("rounds", sa.Integer(), nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_worker_heartbeats")),
        sa.UniqueConstraint("worker", "host", name=op.f("uq_worker_heartbeats_worker_host")),
    )
    for table in TRACED:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("http_request_id", sa.String(length=64), nullable=True))


def downgrade():
    for table in TRACED:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("http_request_id")
    op.drop_table("worker_heartbeats")
