"""a follower's e-mail address for the outcome of a request they follow

A neighbor who follows a request ("me too", or "follow it instead" of reporting it
again) on a phone that cannot show notifications leaves an address instead; the
closure is e-mailed there, in the language they followed in. Kept on the follow
itself, so it goes when they stop following.

Revision ID: 0016
Revises: 0015
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("follows") as batch:
        batch.add_column(sa.Column("email", sa.String(length=254), nullable=True))
        batch.add_column(sa.Column("locale", sa.String(length=16), nullable=True))


def downgrade():
    with op.batch_alter_table("follows") as batch:
        batch.drop_column("locale")
        batch.drop_column("email")
