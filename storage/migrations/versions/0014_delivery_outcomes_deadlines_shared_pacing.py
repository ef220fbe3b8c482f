"""delivery: message kind, deadline, in-doubt marker on the outbox; shared rate buckets

Revision ID: 0014_delivery
Revises: 0009_merge
Create Date: 2026-11-29 16:00:00
"""
from alembic import op
import sqlalchemy as sa
import storage.types


revision = '0014_delivery'
down_revision = '0009_merge'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=64), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('expires_at', storage.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('in_doubt_since', storage.types.UTCDateTime(timezone=True), nullable=True))
    # Rows left "in flight" by the old worker (attempted, outcome unknown) keep that meaning.
    op.execute(
        "UPDATE outbox SET in_doubt_since = next_attempt_at "
        "WHERE last_error = 'in flight' AND status IN ('sending', 'pending')"
    )
    op.create_table('rate_buckets',
    sa.Column('bucket', sa.String(length=300), nullable=False),
    sa.Column('stamps', storage.types.JSONType(), nullable=False),
    sa.Column('paused_until', sa.Float(), nullable=False),
    sa.Column('touched_at', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('bucket', name=op.f('pk_rate_buckets'))
    )


def downgrade() -> None:
    op.drop_table('rate_buckets')
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_column('in_doubt_since')
        batch_op.drop_column('expires_at')
        batch_op.drop_column('kind')
