"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-23
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('accounts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('failed_logins', sa.Integer(), nullable=False),
    sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_login_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_accounts')),
    sa.UniqueConstraint('email', name=op.f('uq_accounts_email'))
    )
    op.create_table('metric_counters',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('labels', sa.String(length=255), nullable=False),
    sa.Column('value', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('name', 'labels', name=op.f('pk_metric_counters'))
    )
    op.create_table('rate_limit_windows',
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('window_start', sa.DateTime(timezone=True), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_rate_limit_windows'))
    )
    op.create_table('stores',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('platform', sa.String(length=32), nullable=False),
    sa.Column('domain', sa.String(length=255), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('credentials_encrypted', sa.Text(), nullable=True),
    sa.Column('settings', sa.JSON(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=True),
    sa.Column('last_synced_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stores')),
    sa.UniqueConstraint('platform', 'domain', name=op.f('uq_stores_platform_domain'))
    )
    op.create_table('account_stores',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('store_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_account_stores_account_id_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['store_id'], ['stores.id'], name=op.f('fk_account_stores_store_id_stores'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_account_stores')),
    sa.UniqueConstraint('account_id', 'store_id', name=op.f('uq_account_stores_account_id_store_id'))
    )
    with op.batch_alter_table('account_stores', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_account_stores_account_id'), ['account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_account_stores_store_id'), ['store_id'], unique=False)

    op.create_table('carrier_accounts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('store_id', sa.Integer(), nullable=False),
    sa.Column('carrier_code', sa.String(length=32), nullable=False),
    sa.Column('credentials_encrypted', sa.Text(), nullable=True),
    sa.Column('verified_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['store_id'], ['stores.id'], name=op.f('fk_carrier_accounts_store_id_stores'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_carrier_accounts')),
    sa.UniqueConstraint('store_id', 'carrier_code', name=op.f('uq_carrier_accounts_store_id_carrier_code'))
    )
    with op.batch_alter_table('carrier_accounts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_carrier_accounts_store_id'), ['store_id'], unique=False)

    op.create_table('data_exports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('store_id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.String(length=64), nullable=True),
    sa.Column('customer_email', sa.String(length=320), nullable=True),
    sa.Column('request_id', sa.String(length=64), nullable=True),
    sa.Column('orders_count', sa.Integer(), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['store_id'], ['stores.id'], name=op.f('fk_data_exports_store_id_stores'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_data_exports'))
    )
    with op.batch_alter_table('data_exports', schema=None) as batch_op:
        batch_op.create_index('ix_data_exports_store_created', ['store_id', 'created_at'], unique=False)

    op.create_table('esp_connections',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('store_id', sa.Integer(), nullable=False),
    sa.Column('provider', sa.String(length=32), nullable=False),
    sa.Column('credentials_encrypted', sa.Text(), nullable=True),
    sa.Column('account_name', sa.String(length=255), nullable=True),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('paused_reason', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['store_id'], ['stores.id'], name=op.f('fk_esp_connections_store_id_stores'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_esp_connections')),
    sa.UniqueConstraint('store_id', 'provider', name=op.f('uq_esp_connections_store_id_provider'))
    )
    with op.batch_alter_table('esp_connections', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_esp_connections_store_id'), ['store_id'], unique=False)

    op.create_table('inbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('store_id', sa.Integer(), nullable=True),
    sa.Column('source', sa.String(length=32), nullable=False),
    sa.Column('topic', sa.String(length=64), nullable=False),
    sa.Column('dedupe_key', sa.String(length=255), nullable=False),
    sa.Column('headers', sa.JSON(), nullable=False),
    sa.Column('body', sa.LargeBinary(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('processed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['store_id'], ['stores.id'], name=op.f('fk_inbox_store_id_stores'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inbox')),
    sa.UniqueConstraint('source', 'dedupe_key', name=op.f('uq_inbox_source_dedupe_key'))
    )
    with op.batch_alter_table('inbox', schema=None) as batch_op:
        batch_op.create_index('ix_inbox_due', ['next_attempt_at'], unique=False, postgresql_where=sa.text("state = 'pending'"), sqlite_where=sa.text("state = 'pending'"))
        batch_op.create_index(batch_op.f('ix_inbox_store_id'), ['store_id'], unique=False)

    op.create_table('orders',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('store_id', sa.Integer(), nullable=False),
    sa.Column('external_id', sa.String(length=64), nullable=False),
    sa.Column('number', sa.String(length=64), nullable=False),
    sa.Column('placed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('remote_updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('customer_id', sa.String(length=64), nullable=True),
    sa.Column('email', sa.String(length=320), nullable=True),
    sa.Column('phone', sa.String(length=64), nullable=True),
    sa.Column('first_name', sa.String(length=255), nullable=True),
    sa.Column('last_name', sa.String(length=255), nullable=True),
    sa.Column('locale', sa.String(length=16), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('total', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('line_items', sa.JSON(), nullable=False),
    sa.Column('order_url', sa.Text(), nullable=True),
    sa.Column('shipping_country', sa.String(length=2), nullable=True),
    sa.Column('shipping_postcode', sa.String(length=32), nullable=True),
    sa.Column('cancelled', sa.Boolean(), nullable=False),
    sa.Column('fulfillment_check_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['store_id'], ['stores.id'], name=op.f('fk_orders_store_id_stores'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_orders')),
    sa.UniqueConstraint('store_id', 'external_id', name=op.f('uq_orders_store_id_external_id'))
    )
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.create_index('ix_orders_fulfillment_check', ['fulfillment_check_at'], unique=False, postgresql_where=sa.text('fulfillment_check_at IS NOT NULL'), sqlite_where=sa.text('fulfillment_check_at IS NOT NULL'))
        batch_op.create_index('ix_orders_store_email', ['store_id', 'email'], unique=False)
        batch_op.create_index('ix_orders_store_number', ['store_id', 'number'], unique=False)

    op.create_table('shopify_sync',
    sa.Column('store_id', sa.Integer(), nullable=False),
    sa.Column('backfill_pending', sa.Boolean(), nullable=False),
    sa.Column('next_run_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_run_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('orders_synced', sa.Integer(), nullable=False),
    sa.Column('webhooks_checked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['store_id'], ['stores.id'], name=op.f('fk_shopify_sync_store_id_stores'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('store_id', name=op.f('pk_shopify_sync'))
    )
    with op.batch_alter_table('shopify_sync', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_shopify_sync_next_run_at'), ['next_run_at'], unique=False)

    op.create_table('woocommerce_auth_grants',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('nonce', sa.String(length=64), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('site_url', sa.Text(), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('store_id', sa.Integer(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_woocommerce_auth_grants_account_id_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['store_id'], ['stores.id'], name=op.f('fk_woocommerce_auth_grants_store_id_stores'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_woocommerce_auth_grants')),
    sa.UniqueConstraint('nonce', name=op.f('uq_woocommerce_auth_grants_nonce'))
    )
    with op.batch_alter_table('woocommerce_auth_grants', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_woocommerce_auth_grants_account_id'), ['account_id'], unique=False)

    op.create_table('woocommerce_sync',
    sa.Column('store_id', sa.Integer(), nullable=False),
    sa.Column('backfill_pending', sa.Boolean(), nullable=False),
    sa.Column('next_run_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('synced_through', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_run_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('orders_synced', sa.Integer(), nullable=False),
    sa.Column('webhooks_reenabled', sa.Integer(), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['store_id'], ['stores.id'], name=op.f('fk_woocommerce_sync_store_id_stores'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('store_id', name=op.f('pk_woocommerce_sync'))
    )
    with op.batch_alter_table('woocommerce_sync', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_woocommerce_sync_next_run_at'), ['next_run_at'], unique=False)

    op.create_table('shipments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('store_id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('fulfillment_external_id', sa.String(length=64), nullable=False),
    sa.Column('tracking_number', sa.String(length=64), nullable=False),
    sa.Column('carrier_code', sa.String(length=32), nullable=True),
    sa.Column('carrier_name', sa.String(length=255), nullable=True),
    sa.Column('service', sa.String(length=255), nullable=True),
    sa.Column('carrier_tracking_url', sa.Text(), nullable=True),
    sa.Column('is_return', sa.Boolean(), nullable=False),
    sa.Column('line_item_ids', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('substatus', sa.String(length=64), nullable=True),
    sa.Column('estimated_delivery', sa.JSON(), nullable=True),
    sa.Column('delivered_to', sa.String(length=32), nullable=True),
    sa.Column('pickup_location', sa.Text(), nullable=True),
    sa.Column('pickup_deadline', sa.String(length=40), nullable=True),
    sa.Column('last_event_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_event_description', sa.Text(), nullable=True),
    sa.Column('last_event_location', sa.Text(), nullable=True),
    sa.Column('shipped_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('next_poll_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_polled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('poll_failures', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('tracking_stopped_reason', sa.String(length=64), nullable=True),
    sa.Column('delay_episode', sa.Integer(), nullable=False),
    sa.Column('delay_open', sa.Boolean(), nullable=False),
    sa.Column('raw_payload', sa.JSON(), nullable=True),
    sa.Column('tracking_token', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_shipments_order_id_orders'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['store_id'], ['stores.id'], name=op.f('fk_shipments_store_id_stores'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_shipments')),
    sa.UniqueConstraint('store_id', 'fulfillment_external_id', 'tracking_number', name=op.f('uq_shipments_store_id_fulfillment_external_id_tracking_number')),
    sa.UniqueConstraint('tracking_token', name=op.f('uq_shipments_tracking_token'))
    )
    with op.batch_alter_table('shipments', schema=None) as batch_op:
        batch_op.create_index('ix_shipments_due', ['next_poll_at'], unique=False, postgresql_where=sa.text('next_poll_at IS NOT NULL'), sqlite_where=sa.text('next_poll_at IS NOT NULL'))
        batch_op.create_index(batch_op.f('ix_shipments_order_id'), ['order_id'], unique=False)
        batch_op.create_index('ix_shipments_store_created', ['store_id', 'created_at'], unique=False)
        batch_op.create_index('ix_shipments_tracking_number', ['tracking_number'], unique=False)

    op.create_table('outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('store_id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=True),
    sa.Column('shipment_id', sa.Integer(), nullable=True),
    sa.Column('trigger', sa.String(length=64), nullable=False),
    sa.Column('destination', sa.String(length=32), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('backfill', sa.Boolean(), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('delivered_via', sa.String(length=32), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_outbox_order_id_orders'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['shipment_id'], ['shipments.id'], name=op.f('fk_outbox_shipment_id_shipments'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['store_id'], ['stores.id'], name=op.f('fk_outbox_store_id_stores'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox')),
    sa.UniqueConstraint('key', name=op.f('uq_outbox_key'))
    )
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_due', ['next_attempt_at'], unique=False, postgresql_where=sa.text("state = 'pending'"), sqlite_where=sa.text("state = 'pending'"))
        batch_op.create_index(batch_op.f('ix_outbox_order_id'), ['order_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_outbox_shipment_id'), ['shipment_id'], unique=False)
        batch_op.create_index('ix_outbox_store_created', ['store_id', 'created_at'], unique=False)

    op.create_table('tracking_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('shipment_id', sa.Integer(), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('utc_offset_minutes', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('substatus', sa.String(length=64), nullable=True),
    sa.Column('code', sa.String(length=64), nullable=True),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('location', sa.Text(), nullable=True),
    sa.Column('country', sa.String(length=2), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['shipment_id'], ['shipments.id'], name=op.f('fk_tracking_events_shipment_id_shipments'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tracking_events')),
    sa.UniqueConstraint('shipment_id', 'fingerprint', name=op.f('uq_tracking_events_shipment_id_fingerprint'))
    )
    with op.batch_alter_table('tracking_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tracking_events_shipment_id'), ['shipment_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('tracking_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tracking_events_shipment_id'))

    op.drop_table('tracking_events')
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_store_created')
        batch_op.drop_index(batch_op.f('ix_outbox_shipment_id'))
        batch_op.drop_index(batch_op.f('ix_outbox_order_id'))
        batch_op.drop_index('ix_outbox_due', postgresql_where=sa.text("state = 'pending'"), sqlite_where=sa.text("state = 'pending'"))

    op.drop_table('outbox')
    with op.batch_alter_table('shipments', schema=None) as batch_op:
        batch_op.drop_index('ix_shipments_tracking_number')
        batch_op.drop_index('ix_shipments_store_created')
        batch_op.drop_index(batch_op.f('ix_shipments_order_id'))
        batch_op.drop_index('ix_shipments_due', postgresql_where=sa.text('next_poll_at IS NOT NULL'), sqlite_where=sa.text('next_poll_at IS NOT NULL'))

    op.drop_table('shipments')
    with op.batch_alter_table('woocommerce_sync', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_woocommerce_sync_next_run_at'))

    op.drop_table('woocommerce_sync')
    with op.batch_alter_table('woocommerce_auth_grants', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_woocommerce_auth_grants_account_id'))

    op.drop_table('woocommerce_auth_grants')
    with op.batch_alter_table('shopify_sync', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_shopify_sync_next_run_at'))

    op.drop_table('shopify_sync')
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_index('ix_orders_store_number')
        batch_op.drop_index('ix_orders_store_email')
        batch_op.drop_index('ix_orders_fulfillment_check', postgresql_where=sa.text('fulfillment_check_at IS NOT NULL'), sqlite_where=sa.text('fulfillment_check_at IS NOT NULL'))

    op.drop_table('orders')
    with op.batch_alter_table('inbox', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inbox_store_id'))
        batch_op.drop_index('ix_inbox_due', postgresql_where=sa.text("state = 'pending'"), sqlite_where=sa.text("state = 'pending'"))

    op.drop_table('inbox')
    with op.batch_alter_table('esp_connections', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_esp_connections_store_id'))

    op.drop_table('esp_connections')
    with op.batch_alter_table('data_exports', schema=None) as batch_op:
        batch_op.drop_index('ix_data_exports_store_created')

    op.drop_table('data_exports')
    with op.batch_alter_table('carrier_accounts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_carrier_accounts_store_id'))

    op.drop_table('carrier_accounts')
    with op.batch_alter_table('account_stores', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_account_stores_store_id'))
        batch_op.drop_index(batch_op.f('ix_account_stores_account_id'))

    op.drop_table('account_stores')
    op.drop_table('stores')
    op.drop_table('rate_limit_windows')
    op.drop_table('metric_counters')
    op.drop_table('accounts')
