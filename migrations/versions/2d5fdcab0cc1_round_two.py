"""round two: sessions, bulks, scripts, brand kits, distribution, previews per aspect

Revision ID: 2d5fdcab0cc1
Revises: 5c8dcbe0e3fc
Create Date: 2026-11-27 21:43:00.600817

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '2d5fdcab0cc1'
down_revision = '5c8dcbe0e3fc'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('brand_kits',
    sa.Column('workspace_id', sa.Integer(), nullable=False),
    sa.Column('primary_color', sa.String(length=7), nullable=False),
    sa.Column('accent_color', sa.String(length=7), nullable=False),
    sa.Column('font', sa.String(length=32), nullable=False),
    sa.Column('logo_path', sa.String(length=512), nullable=True),
    sa.Column('cta_text', sa.String(length=40), nullable=False),
    sa.Column('cta_url', sa.String(length=2048), nullable=True),
    sa.Column('watermark', sa.Boolean(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'], name=op.f('fk_brand_kits_workspace_id_workspaces'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('workspace_id', name=op.f('pk_brand_kits'))
    )
    op.create_table('bulks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('workspace_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('template_key', sa.String(length=64), nullable=False),
    sa.Column('queued', sa.Integer(), nullable=False),
    sa.Column('outcomes', sa.JSON(), nullable=False),
    sa.Column('idempotency_key', sa.String(length=255), nullable=True),
    sa.Column('request_fingerprint', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_bulks_user_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'], name=op.f('fk_bulks_workspace_id_workspaces'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bulks')),
    sa.UniqueConstraint('workspace_id', 'idempotency_key', name=op.f('uq_bulks_workspace_id'))
    )
    op.create_table('webhook_endpoints',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('workspace_id', sa.Integer(), nullable=False),
    sa.Column('url', sa.String(length=2048), nullable=False),
    sa.Column('events', sa.JSON(), nullable=False),
    sa.Column('secret_seed', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('failing_since', sa.DateTime(), nullable=True),
    sa.Column('last_success_at', sa.DateTime(), nullable=True),
    sa.Column('disabled_at', sa.DateTime(), nullable=True),
    sa.Column('disabled_reason', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'], name=op.f('fk_webhook_endpoints_workspace_id_workspaces'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_endpoints'))
    )
    with op.batch_alter_table('webhook_endpoints', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_webhook_endpoints_workspace_id'), ['workspace_id'], unique=False)

    op.create_table('outbound_deliveries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('workspace_id', sa.Integer(), nullable=False),
    sa.Column('endpoint_id', sa.Integer(), nullable=True),
    sa.Column('url', sa.String(length=2048), nullable=False),
    sa.Column('message_id', sa.String(length=64), nullable=False),
    sa.Column('event_type', sa.String(length=32), nullable=False),
    sa.Column('video_id', sa.Integer(), nullable=True),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(), nullable=True),
    sa.Column('lease_owner', sa.String(length=128), nullable=True),
    sa.Column('lease_expires_at', sa.DateTime(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('delivered_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['endpoint_id'], ['webhook_endpoints.id'], name=op.f('fk_outbound_deliveries_endpoint_id_webhook_endpoints'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['video_id'], ['videos.id'], name=op.f('fk_outbound_deliveries_video_id_videos'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'], name=op.f('fk_outbound_deliveries_workspace_id_workspaces'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbound_deliveries')),
    sa.UniqueConstraint('message_id', name=op.f('uq_outbound_deliveries_message_id'))
    )
    with op.batch_alter_table('outbound_deliveries', schema=None) as batch_op:
        batch_op.create_index('ix_outbound_deliveries_due', ['status', 'next_attempt_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_outbound_deliveries_endpoint_id'), ['endpoint_id'], unique=False)
        batch_op.create_index('ix_outbound_deliveries_workspace_created', ['workspace_id', 'created_at'], unique=False)

    op.create_table('share_links',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('workspace_id', sa.Integer(), nullable=False),
    sa.Column('video_id', sa.Integer(), nullable=False),
    sa.Column('token', sa.String(length=64), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=True),
    sa.Column('revoked_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_share_links_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['video_id'], ['videos.id'], name=op.f('fk_share_links_video_id_videos'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'], name=op.f('fk_share_links_workspace_id_workspaces'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_share_links')),
    sa.UniqueConstraint('token', name=op.f('uq_share_links_token'))
    )
    with op.batch_alter_table('share_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_share_links_video_id'), ['video_id'], unique=False)

    op.create_table('outbound_attempts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('delivery_id', sa.Integer(), nullable=False),
    sa.Column('attempted_at', sa.DateTime(), nullable=False),
    sa.Column('status_code', sa.Integer(), nullable=True),
    sa.Column('latency_ms', sa.Integer(), nullable=False),
    sa.Column('response_excerpt', sa.Text(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['delivery_id'], ['outbound_deliveries.id'], name=op.f('fk_outbound_attempts_delivery_id_outbound_deliveries'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbound_attempts'))
    )
    with op.batch_alter_table('outbound_attempts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outbound_attempts_delivery_id'), ['delivery_id'], unique=False)

    with op.batch_alter_table('products', schema=None) as batch_op:
        batch_op.add_column(sa.Column('compare_at_price', sa.Numeric(precision=12, scale=2), nullable=True))
        batch_op.add_column(sa.Column('url', sa.String(length=2048), nullable=True))

    with op.batch_alter_table('templates', schema=None) as batch_op:
        batch_op.add_column(sa.Column('preview_files', sa.JSON(), nullable=True))

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_version', sa.Integer(), server_default='0', nullable=False))

    with op.batch_alter_table('videos', schema=None) as batch_op:
        batch_op.add_column(sa.Column('bulk_id', sa.Integer(), nullable=True))
        # existing rows get an empty list: the script of a video made before scripts existed
        batch_op.add_column(sa.Column('script', sa.JSON(), server_default=sa.text("'[]'"), nullable=False))
        batch_op.add_column(sa.Column('on_hold', sa.Boolean(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('webhook_url', sa.String(length=2048), nullable=True))
        batch_op.add_column(sa.Column('client_metadata', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('model', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('captions_path', sa.String(length=512), nullable=True))
        batch_op.create_index(batch_op.f('ix_videos_bulk_id'), ['bulk_id'], unique=False)
        batch_op.create_index('ix_videos_bulk_status', ['bulk_id', 'status'], unique=False)
        batch_op.drop_index('ix_videos_workspace_status')
        batch_op.create_index('ix_videos_workspace_queue', ['workspace_id', 'status', 'bulk_id', 'created_at', 'id'], unique=False)
        batch_op.create_index('ix_videos_workspace_started', ['workspace_id', 'started_at'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_videos_bulk_id_bulks'), 'bulks', ['bulk_id'], ['id'], ondelete='SET NULL')

    with op.batch_alter_table('workspaces', schema=None) as batch_op:
        batch_op.add_column(sa.Column('storefront_key', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('allowed_origins', sa.JSON(), server_default=sa.text("'[]'"), nullable=False))
        batch_op.add_column(sa.Column('webhook_secret_seed', sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_workspaces_storefront_key'), ['storefront_key'])



def downgrade():
    with op.batch_alter_table('workspaces', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_workspaces_storefront_key'), type_='unique')
        batch_op.drop_column('webhook_secret_seed')
        batch_op.drop_column('allowed_origins')
        batch_op.drop_column('storefront_key')

    with op.batch_alter_table('videos', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_videos_bulk_id_bulks'), type_='foreignkey')
        batch_op.drop_index('ix_videos_bulk_status')
        batch_op.drop_index('ix_videos_workspace_started')
        batch_op.drop_index('ix_videos_workspace_queue')
        batch_op.create_index('ix_videos_workspace_status', ['workspace_id', 'status'], unique=False)
        batch_op.drop_index(batch_op.f('ix_videos_bulk_id'))
        batch_op.drop_column('captions_path')
        batch_op.drop_column('model')
        batch_op.drop_column('client_metadata')
        batch_op.drop_column('webhook_url')
        batch_op.drop_column('on_hold')
        batch_op.drop_column('script')
        batch_op.drop_column('bulk_id')

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('session_version')

    with op.batch_alter_table('templates', schema=None) as batch_op:
        batch_op.drop_column('preview_files')

    with op.batch_alter_table('products', schema=None) as batch_op:
        batch_op.drop_column('url')
        batch_op.drop_column('compare_at_price')

    with op.batch_alter_table('outbound_attempts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbound_attempts_delivery_id'))

    op.drop_table('outbound_attempts')
    with op.batch_alter_table('share_links', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_share_links_video_id'))

    op.drop_table('share_links')
    with op.batch_alter_table('outbound_deliveries', schema=None) as batch_op:
        batch_op.drop_index('ix_outbound_deliveries_workspace_created')
        batch_op.drop_index(batch_op.f('ix_outbound_deliveries_endpoint_id'))
        batch_op.drop_index('ix_outbound_deliveries_due')

    op.drop_table('outbound_deliveries')
    with op.batch_alter_table('webhook_endpoints', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_webhook_endpoints_workspace_id'))

    op.drop_table('webhook_endpoints')
    op.drop_table('bulks')
    op.drop_table('brand_kits')
