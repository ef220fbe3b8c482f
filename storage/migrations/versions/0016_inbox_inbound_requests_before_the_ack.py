"""inbox: inbound requests written before the ack, processed exactly once from there

Revision ID: 0016_inbox
Revises: 0010_offices
Create Date: 2026-11-29 16:40:00
"""
from alembic import op
import sqlalchemy as sa
import storage.types


revision = '0016_inbox'
down_revision = '0014_delivery'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('inbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('platform', sa.String(length=16), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('dedup_key', sa.String(length=300), nullable=False),
    sa.Column('order_key', sa.String(length=300), nullable=False),
    sa.Column('payload', storage.types.JSONType(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('received_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('claimed_by', sa.String(length=128), nullable=True),
    sa.Column('lease_until', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('replies', storage.types.JSONType(), nullable=True),
    sa.Column('replies_sent', sa.Integer(), nullable=False),
    sa.Column('done_at', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inbox')),
    sa.UniqueConstraint('platform', 'dedup_key', name='uq_inbox_platform_key')
    )
    with op.batch_alter_table('inbox', schema=None) as batch_op:
        batch_op.create_index('ix_inbox_open', ['status', 'lease_until'], unique=False)
        batch_op.create_index('ix_inbox_order', ['order_key', 'id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('inbox', schema=None) as batch_op:
        batch_op.drop_index('ix_inbox_order')
        batch_op.drop_index('ix_inbox_open')
    op.drop_table('inbox')
