"""lms uploads: files sent in chat, kept between the dry run and Apply

Revision ID: 0013_lms
Revises: 0009_merge
Create Date: 2026-11-29 16:10:00
"""
from alembic import op
import sqlalchemy as sa
import storage.types


revision = '0013_lms'
down_revision = '0009_merge'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('lms_uploads',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('office_id', sa.String(length=64), nullable=True),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_lms_uploads_person_id_people'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lms_uploads'))
    )
    op.create_index(op.f('ix_lms_uploads_person_id'), 'lms_uploads', ['person_id'], unique=False)
    op.create_index(op.f('ix_lms_uploads_expires_at'), 'lms_uploads', ['expires_at'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_lms_uploads_expires_at'), table_name='lms_uploads')
    op.drop_index(op.f('ix_lms_uploads_person_id'), table_name='lms_uploads')
    op.drop_table('lms_uploads')
