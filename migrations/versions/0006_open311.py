"""Open311 both ways: requests without coordinates, update ids, forwarding to a city CRM

Revision ID: 0006
Revises: 0005
"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

def _sqlite_foreign_keys(enabled):
    """Turn SQLite's foreign keys off while tables are rebuilt, and on again.

    SQLite drops NOT NULL (and adds a UNIQUE) by copying the table and dropping the old
    one; with foreign keys on, that DROP first deletes every row through the ON DELETE
    rules of the tables that point at it (events, photos, follows, contacts...). The
    pragma only takes effect outside a transaction, so the earlier work is committed.
    """
    bind = op.get_bind()
    if bind.dialect.name != 'sqlite':
        return
    raw = bind.connection.dbapi_connection
    if raw.in_transaction:
        raw.commit()
    raw.execute('PRAGMA foreign_keys=%s' % ('ON' if enabled else 'OFF'))


def _rebuild_tables(change):
    _sqlite_foreign_keys(False)
    try:
        change()
    finally:
        _sqlite_foreign_keys(True)


def upgrade():
    _rebuild_tables(_upgrade_columns)
    _upgrade_tables()


def _upgrade_columns():
    with op.batch_alter_table('service_requests') as batch:
        batch.alter_column('lat', existing_type=sa.Float(), nullable=True)
        batch.alter_column('long', existing_type=sa.Float(), nullable=True)
        batch.add_column(sa.Column('needs_location', sa.Boolean(), nullable=False,
                                   server_default=sa.false()))
    with op.batch_alter_table('request_events') as batch:
        batch.add_column(sa.Column('external_id', sa.String(length=120), nullable=True))
        batch.create_unique_constraint(op.f('uq_request_events_external_id'), ['external_id'])


def _upgrade_tables():
    op.create_table(
        'forward_targets',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=120), nullable=False),
        sa.Column('department_id', sa.Integer(), nullable=True),
        sa.Column('service_id', sa.Integer(), nullable=True),
        sa.Column('endpoint', sa.String(length=500), nullable=False),
        sa.Column('jurisdiction_id', sa.String(length=120), nullable=True),
        sa.Column('api_key', sa.String(length=255), nullable=True),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('updates_pulled_until', sa.DateTime(), nullable=True),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['department_id'], ['departments.id'],
                                name=op.f('fk_forward_targets_department_id_departments')),
        sa.ForeignKeyConstraint(['service_id'], ['services.id'],
                                name=op.f('fk_forward_targets_service_id_services')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_forward_targets')),
        sa.UniqueConstraint('department_id', name=op.f('uq_forward_targets_department_id')),
        sa.UniqueConstraint('service_id', name=op.f('uq_forward_targets_service_id')),
    )
    op.create_table(
        'forwardings',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('request_id', sa.Integer(), nullable=False),
        sa.Column('target_id', sa.Integer(), nullable=False),
        sa.Column('idempotency_key', sa.String(length=36), nullable=False),
        sa.Column('state', sa.String(length=10), nullable=False),
        sa.Column('external_id', sa.String(length=120), nullable=True),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_attempt_at', sa.DateTime(), nullable=False),
        sa.Column('claimed_until', sa.DateTime(), nullable=True),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('sent_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['request_id'], ['service_requests.id'], ondelete='CASCADE',
                                name=op.f('fk_forwardings_request_id_service_requests')),
        sa.ForeignKeyConstraint(['target_id'], ['forward_targets.id'],
                                name=op.f('fk_forwardings_target_id_forward_targets')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_forwardings')),
        sa.UniqueConstraint('request_id', name=op.f('uq_forwardings_request_id')),
        sa.UniqueConstraint('idempotency_key', name=op.f('uq_forwardings_idempotency_key')),
    )
    op.create_index('ix_forwardings_due', 'forwardings', ['state', 'next_attempt_at'])
    op.create_index(op.f('ix_forwardings_target_id'), 'forwardings', ['target_id'])
    op.create_index(op.f('ix_forwardings_external_id'), 'forwardings', ['external_id'])
    op.create_table(
        'forwarded_updates',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('event_id', sa.Integer(), nullable=False),
        sa.Column('forwarding_id', sa.Integer(), nullable=False),
        sa.Column('state', sa.String(length=10), nullable=False),
        sa.Column('external_id', sa.String(length=120), nullable=True),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_attempt_at', sa.DateTime(), nullable=False),
        sa.Column('claimed_until', sa.DateTime(), nullable=True),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('sent_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['event_id'], ['request_events.id'], ondelete='CASCADE',
                                name=op.f('fk_forwarded_updates_event_id_request_events')),
        sa.ForeignKeyConstraint(['forwarding_id'], ['forwardings.id'], ondelete='CASCADE',
                                name=op.f('fk_forwarded_updates_forwarding_id_forwardings')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_forwarded_updates')),
        sa.UniqueConstraint('event_id', name=op.f('uq_forwarded_updates_event_id')),
    )
    op.create_index('ix_forwarded_updates_due', 'forwarded_updates', ['state', 'next_attempt_at'])
    op.create_index(op.f('ix_forwarded_updates_forwarding_id'), 'forwarded_updates',
                    ['forwarding_id'])

def downgrade():
    op.drop_table('forwarded_updates')
    op.drop_table('forwardings')
    op.drop_table('forward_targets')
    _rebuild_tables(_downgrade_columns)


def _downgrade_columns():
    with op.batch_alter_table('request_events') as batch:
        batch.drop_constraint(op.f('uq_request_events_external_id'), type_='unique')
        batch.drop_column('external_id')
    with op.batch_alter_table('service_requests') as batch:
        batch.drop_column('needs_location')
        batch.alter_column('long', existing_type=sa.Float(), nullable=False)
        batch.alter_column('lat', existing_type=sa.Float(), nullable=False)
