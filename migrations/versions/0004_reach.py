"""e-mail: outbox channel, address states, opt-outs, used links, device e-mails, area alerts

Revision ID: 0004
Revises: 0006
Create Date: 2026-11-29 22:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('notification_outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('channel', sa.String(length=8), server_default='push', nullable=False))
        batch_op.add_column(sa.Column('email_to', sa.String(length=254), nullable=True))
        batch_op.add_column(sa.Column('kind', sa.String(length=20), nullable=True))
        batch_op.create_index('ix_notification_outbox_request', ['request_id'], unique=False)

    op.create_table('email_addresses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('address', sa.String(length=254), nullable=False),
    sa.Column('bounced_at', sa.DateTime(), nullable=True),
    sa.Column('bounce_reason', sa.Text(), nullable=True),
    sa.Column('unsubscribed_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_email_addresses')),
    sa.UniqueConstraint('address', name=op.f('uq_email_addresses_address'))
    )
    op.create_table('email_opt_outs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('address', sa.String(length=254), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['request_id'], ['service_requests.id'], name=op.f('fk_email_opt_outs_request_id_service_requests'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_email_opt_outs')),
    sa.UniqueConstraint('address', 'request_id', name=op.f('uq_email_opt_outs_address_request_id'))
    )
    with op.batch_alter_table('email_opt_outs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_email_opt_outs_request_id'), ['request_id'], unique=False)
    op.create_table('used_links',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('link_id', sa.String(length=40), nullable=False),
    sa.Column('purpose', sa.String(length=20), nullable=False),
    sa.Column('used_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_used_links')),
    sa.UniqueConstraint('link_id', name=op.f('uq_used_links_link_id'))
    )
    op.create_table('device_emails',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('device_id', sa.Integer(), nullable=False),
    sa.Column('address', sa.String(length=254), nullable=False),
    sa.Column('verified_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['device_id'], ['devices.id'], name=op.f('fk_device_emails_device_id_devices'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_device_emails')),
    sa.UniqueConstraint('device_id', 'address', name=op.f('uq_device_emails_device_id_address'))
    )
    with op.batch_alter_table('device_emails', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_device_emails_address'), ['address'], unique=False)
    op.create_table('area_alerts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('address', sa.String(length=254), nullable=False),
    sa.Column('neighborhood_id', sa.Integer(), nullable=True),
    sa.Column('lat', sa.Float(), nullable=True),
    sa.Column('long', sa.Float(), nullable=True),
    sa.Column('radius_m', sa.Integer(), nullable=True),
    sa.Column('frequency', sa.String(length=10), nullable=False),
    sa.Column('locale', sa.String(length=16), nullable=True),
    sa.Column('confirmed_at', sa.DateTime(), nullable=True),
    sa.Column('unsubscribed_at', sa.DateTime(), nullable=True),
    sa.Column('last_digest_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['neighborhood_id'], ['neighborhoods.id'], name=op.f('fk_area_alerts_neighborhood_id_neighborhoods'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_area_alerts'))
    )
    with op.batch_alter_table('area_alerts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_area_alerts_address'), ['address'], unique=False)


def downgrade():
    op.drop_table('area_alerts')
    op.drop_table('device_emails')
    op.drop_table('used_links')
    op.drop_table('email_opt_outs')
    op.drop_table('email_addresses')
    with op.batch_alter_table('notification_outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_notification_outbox_request')
        batch_op.drop_column('kind')
        batch_op.drop_column('email_to')
        batch_op.drop_column('channel')
