"""join the feature branches into one head

Revision ID: 0009_merge
Revises: 0005_nudges, 0006_skillshare, 0007_picks, 0008_days
Create Date: 2026-11-29 03:41:49.518497
"""
from alembic import op
import sqlalchemy as sa
import storage.types


revision = '0009_merge'
down_revision = ('0005_nudges', '0006_skillshare', '0007_picks', '0008_days')
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
