"""Persistence: SQLAlchemy 2 typed models, engine/session set-up and Alembic migrations."""
