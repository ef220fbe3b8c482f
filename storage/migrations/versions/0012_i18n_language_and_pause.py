"""people.language (the language a person chose, ahead of their platform's and office's
locale) and course_assignments.paused_reason (a typed reply paused reminders until the
learning manager decides)

Revision ID: 0012_i18n
Revises: 0013_lms
Create Date: 2026-11-29 15:50:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0012_i18n'
down_revision = '0010_offices'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('people') as batch:
        batch.add_column(sa.Column('language', sa.String(length=16), nullable=True))
    with op.batch_alter_table('course_assignments') as batch:
        batch.add_column(sa.Column('paused_reason', sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('course_assignments') as batch:
        batch.drop_column('paused_reason')
    with op.batch_alter_table('people') as batch:
        batch.drop_column('language')
