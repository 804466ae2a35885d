"""forwarding keeps the CRM's own clock, its token and whether an answer was lost

``remote_updated_at`` is the CRM's ``updated_datetime`` last applied to a forwarded
request (updates older than it add their words but do not move the status; our own
clock is never compared with the CRM's). ``token`` is the GeoReport ``token`` a CRM
answers with when it makes requests later. ``lookup_needed`` says an attempt may have
reached the CRM although no answer came back: the next attempt first looks for it.

Revision ID: 0015
Revises: 0014
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("forwardings") as batch:
        batch.add_column(sa.Column("remote_updated_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("token", sa.String(length=120), nullable=True))
        batch.add_column(
            sa.Column("lookup_needed", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade():
    with op.batch_alter_table("forwardings") as batch:
        batch.drop_column("lookup_needed")
        batch.drop_column("token")
        batch.drop_column("remote_updated_at")
