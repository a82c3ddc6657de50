"""Alembic migrations, shipped in the package and run by `StateStore.migrate` (no alembic.ini needed)."""
