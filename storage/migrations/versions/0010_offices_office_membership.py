"""office membership: who placed each person in their office

Existing people keep the office they had (the default office, or the office that lists them
as a learning manager) with the source ``default``, so an import, a directory field, the
person or a learning manager can place them properly afterwards. People without an office
are given the default office by ``bot.people.settle_offices`` when the server starts (the
migration cannot read app.yaml).

Revision ID: 0010_offices
Revises: 0013_lms
Create Date: 2026-11-29 16:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0010_offices'
down_revision = '0013_lms'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('people', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('office_source', sa.String(length=16), server_default='default', nullable=False)
        )
        batch_op.create_index(batch_op.f('ix_people_office_id'), ['office_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('people', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_people_office_id'))
        batch_op.drop_column('office_source')
