"""Alembic migrations for the mqlbot schema."""
